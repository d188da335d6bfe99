// Notification settings: which mail and which device notifications (Web Push) to get, and quiet
// hours in the user's time zone.
import { h, field, errorText } from '../dom.js';
import { verifyNotice } from './auth.js';

const KINDS = [
  ['taskShared', 'A task is shared with me'],
  ['taskCompleted', 'Someone completes one of my tasks'],
  ['commentAdded', 'Someone comments on a task I work on'],
];
/** The push channel's preference for each kind: `pushTaskShared` beside the mail's `taskShared`. */
const pushKey = (kind) => `push${kind[0].toUpperCase()}${kind.slice(1)}`;

/**
 * One channel's switches: on or off as a whole, and each kind (greyed out while it is off).
 * @param {string} name the preference that turns the channel on (`emailEnabled`, `pushEnabled`)
 * @param {(kind: string) => string} keyOf the preference of a kind on this channel
 */
function channel(name, keyOf) {
  const on = h('input', { type: 'checkbox', testid: `pref-${name}` });
  const kinds = Object.fromEntries(KINDS.map(([k]) => [keyOf(k), h('input', { type: 'checkbox', testid: `pref-${keyOf(k)}` })]));
  const sync = () => { for (const box of Object.values(kinds)) box.disabled = !on.checked; };
  on.addEventListener('change', sync);
  return {
    on, sync,
    kinds: (legend) => h('fieldset', { class: 'plain' }, h('legend', { class: 'hint', text: legend }),
      KINDS.map(([k, label]) => h('label', { class: 'check' }, kinds[keyOf(k)], label))),
    show(p) { on.checked = p[name]; for (const [key, box] of Object.entries(kinds)) box.checked = p[key]; sync(); },
    read(params) { params[name] = on.checked; for (const [key, box] of Object.entries(kinds)) params[key] = box.checked; },
  };
}

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
  const mail = channel('emailEnabled', (k) => k);
  const push = channel('pushEnabled', pushKey);
  const quietOn = h('input', { type: 'checkbox', testid: 'quiet-enabled' });
  const start = h('input', { type: 'time', testid: 'quiet-start', value: '22:00' });
  const end = h('input', { type: 'time', testid: 'quiet-end', value: '07:00' });
  const localZone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const zone = h('select', { testid: 'quiet-zone' });
  const quietFields = h('fieldset', { class: 'row' }, h('legend', { class: 'sr-only', text: 'Quiet hours' }),
    field('From', start), field('Until', end), field('Time zone', zone));
  const syncQuiet = () => { quietFields.disabled = !quietOn.checked; };
  quietOn.addEventListener('change', syncQuiet);

  const form = h('form', { class: 'panel', testid: 'settings-form' }, status, error,
    h('h2', { text: 'Mail' }),
    h('label', { class: 'check' }, mail.on, 'Send me notification mail'),
    mail.kinds('Mail me when'),
    h('h2', { text: 'On my devices' }),
    h('p', { class: 'hint' }, 'Notifications on the computers and phones where you turned them on (',
      h('a', { href: '#/profile', text: 'Profile' }), ').'),
    h('label', { class: 'check' }, push.on, 'Show notifications on my devices'),
    push.kinds('Notify my devices when'),
    h('h2', { text: 'Quiet hours' }),
    h('p', { class: 'hint', text: 'Mail and device notifications that come during quiet hours are held, and sent as one summary when they end.' }),
    h('label', { class: 'check' }, quietOn, 'Hold notifications during quiet hours'), quietFields,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', testid: 'settings-save', text: 'Save settings' })));

  function show(p) {
    mail.show(p);
    push.show(p);
    quietOn.checked = p.quietHours != null;
    if (p.quietHours) { start.value = p.quietHours.start; end.value = p.quietHours.end; }
    const selected = p.quietHours?.timeZone ?? localZone;
    zone.replaceChildren(...timeZones(selected).map((z) => h('option', { value: z, selected: z === selected, text: z })));
    syncQuiet();
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    status.hidden = error.hidden = true;
    const params = { quietHours: quietOn.checked ? { start: start.value, end: end.value, timeZone: zone.value } : null };
    mail.read(params);
    push.read(params);
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
