// Notification settings: which mail to get, and quiet hours in the user's time zone.
import { h, field, errorText } from '../dom.js';
import { verifyNotice } from './auth.js';

const KINDS = [
  ['taskShared', 'A task is shared with me'],
  ['taskCompleted', 'Someone completes one of my tasks'],
  ['commentAdded', 'Someone comments on a task I work on'],
];

function timeZones(current) {
  /** @type {string[]} */
  let zones = [];
  try { zones = /** @type {any} */ (Intl).supportedValuesOf('timeZone'); } catch { zones = []; }
  if (!zones.includes('UTC')) zones = ['UTC', ...zones];
  if (current && !zones.includes(current)) zones = [current, ...zones];
  return zones;
}

export function settingsPage(ctx) {
  const el = h('section', { class: 'form-page' }, h('h1', { text: 'Notifications' }), verifyNotice(ctx));
  const status = h('p', { role: 'status', class: 'notice ok', testid: 'settings-saved', hidden: true });
  const error = h('p', { class: 'form-error', role: 'alert', testid: 'settings-error', hidden: true });
  const emailEnabled = h('input', { type: 'checkbox', testid: 'pref-emailEnabled' });
  const kinds = Object.fromEntries(KINDS.map(([k]) => [k, h('input', { type: 'checkbox', testid: `pref-${k}` })]));
  const quietOn = h('input', { type: 'checkbox', testid: 'quiet-enabled' });
  const start = h('input', { type: 'time', testid: 'quiet-start', value: '22:00' });
  const end = h('input', { type: 'time', testid: 'quiet-end', value: '07:00' });
  const localZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const zone = h('select', { testid: 'quiet-zone' });
  const quietFields = h('fieldset', { class: 'row' }, h('legend', { class: 'sr-only', text: 'Quiet hours' }),
    field('From', start), field('Until', end), field('Time zone', zone));
  const syncEnabled = () => {
    for (const box of Object.values(kinds)) box.disabled = !emailEnabled.checked;
    quietFields.disabled = !quietOn.checked;
  };
  emailEnabled.addEventListener('change', syncEnabled);
  quietOn.addEventListener('change', syncEnabled);

  const form = h('form', { class: 'panel', testid: 'settings-form' }, status, error,
    h('h2', { text: 'Mail' }),
    h('label', { class: 'check' }, emailEnabled, 'Send me notification mail'),
    h('fieldset', { class: 'plain' }, h('legend', { class: 'hint', text: 'Mail me when' }),
      KINDS.map(([k, label]) => h('label', { class: 'check' }, kinds[k], label))),
    h('h2', { text: 'Quiet hours' }),
    h('p', { class: 'hint', text: 'Mail that arrives during quiet hours is held and sent as one digest when they end.' }),
    h('label', { class: 'check' }, quietOn, 'Hold mail during quiet hours'), quietFields,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', testid: 'settings-save', text: 'Save settings' })));

  function show(p) {
    emailEnabled.checked = p.emailEnabled;
    for (const [k] of KINDS) kinds[k].checked = p[k];
    quietOn.checked = p.quietHours != null;
    if (p.quietHours) { start.value = p.quietHours.start; end.value = p.quietHours.end; }
    const selected = p.quietHours?.timeZone ?? localZone;
    zone.replaceChildren(...timeZones(selected).map((z) => h('option', { value: z, selected: z === selected, text: z })));
    syncEnabled();
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    status.hidden = error.hidden = true;
    const params = { emailEnabled: emailEnabled.checked, quietHours: quietOn.checked ? { start: start.value, end: end.value, timeZone: zone.value } : null };
    for (const [k] of KINDS) params[k] = kinds[k].checked;
    try {
      show(await ctx.session.call('notifications.updatePreferences', params));
      status.textContent = 'Settings saved.';
      status.hidden = false;
    } catch (err) { error.textContent = errorText(err); error.hidden = false; }
  });
  ctx.session.call('notifications.getPreferences', {}).then((p) => { show(p); el.append(form); })
    .catch((err) => el.append(h('p', { class: 'form-error', text: errorText(err) })));
  return { el, title: 'Notifications' };
}
