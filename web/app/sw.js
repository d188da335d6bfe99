// The service worker: shows the server's Web Push messages as notifications and, when one is
// clicked, brings the app to the message's page. Served at /sw.js (never cached) so its scope can
// be the whole origin: a worker's scope is at most its script's directory.
//
// A classic script, not a module: every browser with the Push API runs classic workers, and this
// one imports nothing.
//
// The server's message is JSON (PushMessage in protocol/openrpc.json): {v: 1, kind, title, body,
// url, tag, taskId?, taskTitle?, actor?, count?}. `tag` makes a newer notice about the same task
// replace the older one.

const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

/** What anything else shows: a push that is not the server's JSON still has to show something
 * (a push with `userVisibleOnly` that shows nothing costs the site its permission). */
const GENERIC = { title: 'Faros', body: 'Something changed in your tasks.' };

// A new worker takes over at once: it holds no state an old page could depend on.
sw.addEventListener('install', () => { sw.skipWaiting(); });
sw.addEventListener('activate', (event) => { event.waitUntil(sw.clients.claim()); });

/** The link to open: the message's own when it is http(s), else the app's front page. */
function linkOf(url) {
  try {
    const parsed = new URL(String(url), sw.location.origin);
    if (parsed.protocol === 'https:' || parsed.protocol === 'http:') return parsed.href;
  } catch { /* not a URL */ }
  return new URL('/', sw.location.origin).href;
}

/**
 * The notification for a push: the server's title, body, tag and link, or GENERIC when the
 * payload is missing or not the server's JSON.
 * @param {PushMessageData | null} data
 * @returns {{title: string, options: NotificationOptions}}
 */
function notificationFor(data) {
  /** @type {Partial<import('../client/faros.js').PushMessage> | null} */
  let message = null;
  try { message = data ? JSON.parse(data.text()) : null; } catch { message = null; }
  if (!message || typeof message !== 'object' || typeof message.title !== 'string' || !message.title) {
    return { title: GENERIC.title, options: { body: GENERIC.body, data: { url: linkOf('/') } } };
  }
  /** @type {NotificationOptions} */
  const options = { body: typeof message.body === 'string' ? message.body : '', data: { url: linkOf(message.url ?? '/') } };
  if (typeof message.tag === 'string' && message.tag) options.tag = message.tag;
  return { title: message.title, options };
}

sw.addEventListener('push', (event) => {
  const { title, options } = notificationFor(event.data);
  event.waitUntil(sw.registration.showNotification(title, options));
});

/**
 * An open window of the app (the page at `/`, whatever its hash) is told to go to the link's
 * page, so it keeps its session and connection; the focused one first. Without one, or for a
 * link elsewhere, a new window opens.
 */
async function open(url) {
  const target = new URL(url);
  if (target.origin === sw.location.origin) {
    const windows = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const apps = windows.filter((c) => ['/', '/index.html'].includes(new URL(c.url).pathname));
    const app = apps.find((c) => c.focused) ?? apps[0];
    if (app) {
      app.postMessage({ type: 'faros.open', path: target.pathname + target.search + target.hash });
      await app.focus();
      return;
    }
  }
  await sw.clients.openWindow(target.href);
}

sw.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(open(linkOf(event.notification.data?.url ?? '/')));
});
