// The profile's "Notifications on this device": turning Web Push on here, and the account's
// devices (each browser that gets notifications), each removable.
import { h, errorText, formatTime } from '../dom.js';
import { pushUnsupported, enablePush, removeDevice } from '../push.js';

const METHOD_NOT_FOUND = -32601;

/** Push services by origin, as people know them; others show their host. */
const SERVICES = {
  'https://fcm.googleapis.com': 'Google',
  'https://updates.push.services.mozilla.com': 'Mozilla',
  'https://web.push.apple.com': 'Apple',
};

function serviceName(origin) {
  if (SERVICES[origin]) return SERVICES[origin];
  if (/\.notify\.windows\.com$/.test(origin)) return 'Microsoft';
  try { return new URL(origin).host; } catch { return String(origin); }
}

export function devicesPanel(ctx) {
  const status = h('p', { role: 'status', class: 'notice ok', hidden: true, testid: 'push-status' });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true, testid: 'push-error' });
  const unsupported = pushUnsupported();
  const enable = h('button', { type: 'button', class: 'primary', testid: 'push-enable', text: 'Enable notifications on this device' });
  const enabledHere = h('p', { class: 'muted', testid: 'push-enabled', hidden: true, text: 'This device gets notifications.' });
  const list = h('ul', { class: 'plain-list devices', testid: 'push-devices', 'aria-label': 'Devices that get notifications' });
  const empty = h('p', { class: 'muted', testid: 'push-devices-empty', hidden: true, text: 'No device gets notifications yet.' });
  const say = (text) => { status.textContent = text; status.hidden = false; error.hidden = true; };
  const fail = (err) => { error.textContent = errorText(err); error.hidden = false; status.hidden = true; };

  function row(device) {
    const remove = h('button', { type: 'button', class: 'danger', testid: 'push-device-remove', text: 'Remove',
      'aria-label': `Remove ${device.label || 'this device'}` });
    remove.addEventListener('click', async () => {
      remove.disabled = true;
      try {
        await removeDevice(ctx.session, device);
        say(device.current ? 'This device no longer gets notifications.' : `${device.label || 'The device'} no longer gets notifications.`);
        await load();
      } catch (err) { fail(err); remove.disabled = false; }
    });
    return h('li', { class: 'device', testid: 'push-device' },
      h('div', { class: 'main' },
        h('div', null, h('strong', { testid: 'push-device-label', text: device.label || 'Unnamed device' }), ' ',
          device.current ? h('span', { class: 'badge', testid: 'push-device-current', text: 'this device' }) : null),
        h('div', { class: 'hint' }, `Through ${serviceName(device.service)} · added ${formatTime(device.createdAt)} · `,
          device.lastUsedAt ? `last notified ${formatTime(device.lastUsedAt)}` : 'not notified yet')),
      remove);
  }

  async function load() {
    try {
      const { devices } = await ctx.session.call('push.listDevices', {});
      list.replaceChildren(...devices.map(row));
      empty.hidden = devices.length > 0;
      const here = devices.some((d) => d.current);
      enabledHere.hidden = !here;
      enable.hidden = here || unsupported != null;
    } catch (err) {
      // A server without Web Push (no push transport configured) has no push.* methods.
      if (/** @type {any} */ (err)?.code === METHOD_NOT_FOUND) {
        enable.hidden = true;
        empty.hidden = false;
        empty.textContent = 'This server does not send notifications to devices.';
      } else fail(err);
    }
  }

  enable.addEventListener('click', async () => {
    enable.disabled = true;
    error.hidden = status.hidden = true;
    try {
      await enablePush(ctx.session);
      say('Notifications are on for this device.');
      await load();
    } catch (err) { fail(err); } finally { enable.disabled = false; }
  });

  const blocked = !unsupported && Notification.permission === 'denied'
    ? h('p', { class: 'notice warn', testid: 'push-blocked', text: 'Notifications are blocked for this site in this browser\'s settings.' })
    : null;
  load();
  return h('section', { class: 'panel', testid: 'push-panel', 'aria-labelledby': 'push-heading' },
    h('h2', { id: 'push-heading', text: 'Notifications on this device' }),
    h('p', { class: 'hint', text: 'Get a notification on this computer or phone when a task is shared with you, one of yours is completed or someone comments. Choose which on the Notifications page.' }),
    status, error,
    unsupported ? h('p', { class: 'notice warn', testid: 'push-unsupported', text: unsupported }) : blocked,
    h('div', { class: 'actions' }, enable, enabledHere),
    h('h3', { text: 'Your devices' }), list, empty);
}
