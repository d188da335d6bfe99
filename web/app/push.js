// Web Push on this device: the service worker, the browser's push subscription, and the server's
// copy of it (push.subscribe). The server sends each device's messages to its push service, the
// worker (sw.js) shows them.

/** Where the worker is served: the root, so its scope is the whole app. */
const WORKER_URL = '/sw.js';
/** The server keeps at most this many characters of a device's label. */
const MAX_LABEL = 100;
/**
 * The users who turned notifications on in this browser (ids, in localStorage: the subscription
 * belongs to the browser, not the tab). The server gives a subscription to whoever registers it
 * last, so the silent refresh on sign-in only hands it over for one of them: someone else
 * signing in on a shared computer must not silently take the first person's notifications.
 */
const ENABLED_KEY = 'faros.push.users';

/** @returns {number[]} */
function enabledUsers() {
  try {
    const ids = JSON.parse(localStorage.getItem(ENABLED_KEY) ?? '[]');
    return Array.isArray(ids) ? ids.filter((id) => typeof id === 'number') : [];
  } catch { return []; }
}
/** @param {number[]} ids */
function setEnabledUsers(ids) {
  try {
    if (ids.length) localStorage.setItem(ENABLED_KEY, JSON.stringify(ids)); else localStorage.removeItem(ENABLED_KEY);
  } catch { /* storage off: the refresh just does not happen */ }
}

/**
 * Why this browser cannot get notifications, or null when it can. Push needs a secure context
 * (https, or http on localhost) besides the three APIs.
 * @returns {string | null}
 */
export function pushUnsupported() {
  if (!window.isSecureContext) return 'Notifications need a secure connection (https).';
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
    return 'This browser cannot show notifications from Faros.';
  }
  return null;
}

/** A name for this device, such as "Chromium on Linux". @returns {string} */
export function deviceLabel() {
  const data = /** @type {any} */ (navigator).userAgentData;
  let browser = '';
  let platform = '';
  if (data && Array.isArray(data.brands)) {
    // Brands include a made-up one ("Not A(Brand") and the engine alongside the product.
    const brands = data.brands.map((b) => String(b.brand)).filter((b) => !/not.?a.?brand/i.test(b));
    browser = brands.find((b) => b !== 'Chromium') ?? brands[0] ?? '';
    platform = String(data.platform ?? '');
  }
  const ua = navigator.userAgent;
  if (!browser) {
    browser = [['Edg/', 'Edge'], ['OPR/', 'Opera'], ['Firefox/', 'Firefox'], ['Chrome/', 'Chrome'], ['Chromium/', 'Chromium'], ['Safari/', 'Safari']]
      .find(([marker]) => ua.includes(marker))?.[1] ?? 'Browser';
  }
  if (!platform) {
    platform = [['Android', 'Android'], ['iPhone', 'iOS'], ['iPad', 'iPadOS'], ['Windows', 'Windows'], ['Mac OS X', 'macOS'], ['CrOS', 'ChromeOS'], ['Linux', 'Linux']]
      .find(([marker]) => ua.includes(marker))?.[1] ?? '';
  }
  return (platform ? `${browser} on ${platform}` : browser).slice(0, MAX_LABEL);
}

/** The VAPID key as the bytes PushManager wants. @param {string} base64url @returns {Uint8Array} */
export function keyBytes(base64url) {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Whether a subscription was made for this server key (not one it has since replaced). */
function madeFor(subscription, key) {
  const current = subscription.options?.applicationServerKey;
  if (!current) return true; // unknown: keep it (the server refuses pushes only if it is wrong)
  const a = new Uint8Array(current);
  return a.length === key.length && a.every((byte, i) => byte === key[i]);
}

/** The server's copy of a subscription: endpoint and keys as the browser gives them, and a label. */
function subscribeParams(subscription) {
  const json = subscription.toJSON();
  return {
    endpoint: String(json.endpoint ?? subscription.endpoint),
    keys: { p256dh: String(json.keys?.p256dh ?? ''), auth: String(json.keys?.auth ?? '') },
    expirationTime: json.expirationTime ?? null,
    label: deviceLabel(),
  };
}

/** The worker's registration, if this browser has one for the app. */
async function registration() {
  if (pushUnsupported()) return undefined;
  return navigator.serviceWorker.getRegistration('/');
}

/** This browser's push subscription, or null. @returns {Promise<PushSubscription | null>} */
export async function currentSubscription() {
  const reg = await registration();
  return reg ? reg.pushManager.getSubscription() : null;
}

/**
 * Turns notifications on for this device: asks the person, registers the worker, subscribes
 * with the server's key and hands the subscription to the server. Each failure is an Error
 * whose message says what to do.
 * @param {import('./net.js').Session} session
 */
export async function enablePush(session) {
  const why = pushUnsupported();
  if (why) throw new Error(why);
  const permission = await Notification.requestPermission();
  if (permission === 'denied') {
    throw new Error('Notifications are blocked for this site. Allow them in the browser\'s site settings, then try again.');
  }
  if (permission !== 'granted') throw new Error('Notifications were not allowed. Try again and choose Allow.');
  let reg;
  try {
    await navigator.serviceWorker.register(WORKER_URL, { scope: '/' });
    // Subscribing needs an active worker; ready waits for it.
    reg = await navigator.serviceWorker.ready;
  } catch (err) {
    throw new Error(`The notification worker could not start: ${/** @type {any} */ (err)?.message ?? err}`);
  }
  const { publicKey } = await session.call('push.getPublicKey', {});
  const key = keyBytes(publicKey);
  let subscription = await reg.pushManager.getSubscription();
  if (subscription && !madeFor(subscription, key)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  if (!subscription) {
    try {
      subscription = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
    } catch (err) {
      throw new Error(`This browser could not subscribe to notifications: ${/** @type {any} */ (err)?.message ?? err}`);
    }
  }
  const device = await session.call('push.subscribe', subscribeParams(subscription));
  const me = session.user?.id;
  if (typeof me === 'number') setEnabledUsers([...enabledUsers().filter((id) => id !== me), me]);
  return device;
}

/**
 * On start, signed in: hands this browser's subscription to the server again, so its copy stays
 * fresh (keys, label, expiry) and marks this session's device. Silent: nothing if notifications
 * are not on here, and failures are dropped (the next start tries again).
 * @param {import('./net.js').Session} session
 */
export async function refreshPush(session) {
  try {
    if (pushUnsupported() || Notification.permission !== 'granted') return;
    const me = session.user?.id;
    if (!enabledUsers().includes(me)) return;
    const subscription = await currentSubscription();
    if (!subscription) return;
    const { publicKey } = await session.call('push.getPublicKey', {});
    // Made for a key the server no longer has: pushes would be refused; enabling again fixes it.
    if (!madeFor(subscription, keyBytes(publicKey))) return;
    try {
      // refresh: never creates a device, so one removed from another browser stays removed.
      await session.call('push.subscribe', { ...subscribeParams(subscription), refresh: true });
    } catch (err) {
      if (/** @type {any} */ (err)?.code !== -32004) throw err;
      // Removed elsewhere: this browser stops refreshing for this person, and lets its
      // subscription go when nobody here wants notifications any more.
      const left = enabledUsers().filter((id) => id !== me);
      setEnabledUsers(left);
      if (!left.length) await subscription.unsubscribe().catch(() => false);
    }
  } catch { /* silent by design */ }
}

/**
 * Removes a device from the account. For this device the browser's subscription goes too, and
 * with it the silent refresh for everyone here: the next person wanting notifications in this
 * browser enables them again.
 * @param {import('./net.js').Session} session
 * @param {{id: number, current: boolean}} device
 */
export async function removeDevice(session, device) {
  await session.call('push.removeDevice', { deviceId: device.id });
  if (device.current) {
    const subscription = await currentSubscription().catch(() => null);
    await subscription?.unsubscribe().catch(() => false);
    setEnabledUsers([]);
  }
}
