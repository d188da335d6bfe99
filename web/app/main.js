// Boot, hash routing, and the live loop: server events are queued and handed to the current
// view once per animation frame, so a burst of hundreds costs one render, not hundreds.
import { Session } from './net.js';
import { replace } from './dom.js';
import { toast, connectionBanner } from './ui.js';
import { signIn, register, forgot, verify } from './views/auth.js';
import { tasksPage } from './views/tasks.js';
import { taskPage } from './views/task.js';
import { settingsPage } from './views/settings.js';
import { profilePage } from './views/profile.js';
import { refreshPush } from './push.js';

const session = new Session();
const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const topbar = /** @type {HTMLElement} */ (document.getElementById('topbar'));
let view = null;
let flashMessage = '';

const PUBLIC = new Set(['signin', 'register', 'forgot']);

/** Mail and notification links point at /tasks/12 and /settings/notifications; the app routes by hash. */
function hashForPath(path) {
  const m = path.match(/^\/tasks\/(\d+)$/) ?? null;
  return m ? `#/tasks/${m[1]}` : path === '/settings/notifications' ? '#/settings' : null;
}
function adoptPathLink() {
  const target = hashForPath(location.pathname);
  if (target) history.replaceState(null, '', `/${target}`);
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, search = ''] = raw.split('?');
  return { parts: path.split('/').filter(Boolean), query: new URLSearchParams(search) };
}

function navigate(hash) {
  if (location.hash === hash) render(); else location.hash = hash;
}

const ctx = {
  session,
  navigate,
  notice: (text) => toast(text),
  setTitle: (t) => { document.title = `${t} · Faros`; },
  rerender: () => render(),
  query: new URLSearchParams(),
  flashMessage: '',
};

function updateTopbar(section) {
  topbar.hidden = !session.user;
  if (!session.user) return;
  const name = /** @type {HTMLElement} */ (document.getElementById('topbar-user'));
  name.textContent = session.user.username;
  const img = /** @type {HTMLImageElement} */ (document.getElementById('topbar-avatar'));
  const url = session.avatarUrl(session.user);
  img.hidden = !url;
  if (url) img.src = url;
  for (const a of topbar.querySelectorAll('[data-nav]')) {
    if (/** @type {HTMLElement} */ (a).dataset.nav === section) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
}

function render() {
  const { parts, query } = parseHash();
  const section = parts[0] ?? (session.user ? 'tasks' : 'signin');
  if (!session.user && !PUBLIC.has(section)) { location.replace('#/signin'); if (section === 'signin') render(); return; }
  if (session.user && PUBLIC.has(section)) { location.replace('#/tasks'); return; }
  view?.dispose?.();
  pending.length = 0;
  ctx.query = query;
  // The sign-in message survives the extra render of the hash change that led there.
  ctx.flashMessage = flashMessage;
  if (section !== 'signin') flashMessage = '';
  let next;
  if (section === 'signin') next = signIn(ctx);
  else if (section === 'register') next = register(ctx);
  else if (section === 'forgot') next = forgot(ctx);
  else if (section === 'verify') next = verify(ctx);
  else if (section === 'tasks' && parts[1]) next = taskPage(ctx, Number(parts[1]));
  else if (section === 'shared') next = tasksPage(ctx, { shared: true });
  else if (section === 'settings') next = settingsPage(ctx);
  else if (section === 'profile') next = profilePage(ctx);
  else next = tasksPage(ctx);
  view = next;
  updateTopbar(section === 'tasks' && parts[1] ? '' : section);
  ctx.setTitle(next.title);
  replace(main, next.el);
  main.focus({ preventScroll: true });
}

// Live: queue, then apply once per frame.
// A hidden tab gets no animation frames at all, so a timer flushes there instead.
const pending = [];
let frame = 0;
let timer = 0;
session.onEvent((ev) => {
  pending.push(ev);
  if (!frame) {
    frame = requestAnimationFrame(flush);
    timer = setTimeout(flush, 250);
  }
});
function flush() {
  cancelAnimationFrame(frame);
  clearTimeout(timer);
  frame = 0;
  const batch = pending.splice(0);
  if (!batch.length || !view?.applyEvents) return;
  for (const ev of batch) {
    // Losing a task shows a notice wherever the user is; the task page handles its own.
    if (ev.type === 'share.revoked' && ev.data.userId === session.user?.id && ev.actor?.id !== session.user?.id && view.taskId !== ev.taskId) {
      toast(`${ev.actor?.username ?? 'The owner'} stopped sharing a task with you.`);
    }
  }
  view.applyEvents(batch);
}
session.onResync(() => view?.resync?.());
// Presence changes are few (the server sends at most two a second per person): straight to the view.
session.onPresence((change) => view?.applyPresence?.(change));
session.onPresenceResync((taskIds) => view?.presenceResync?.(taskIds));
session.onUserChanged(() => updateTopbar(topbar.querySelector('[aria-current]')?.getAttribute('data-nav') ?? ''));
session.onSignedOut((message) => {
  flashMessage = message;
  updateTopbar('');
  location.hash = '#/signin';
  render();
});
connectionBanner(session);

document.getElementById('signout')?.addEventListener('click', () => session.logout());
window.addEventListener('hashchange', render);
// A notification clicked while the app is open: the worker (sw.js) asks this window to show its
// page, so the session and its connection carry on.
navigator.serviceWorker?.addEventListener('message', (e) => {
  if (e.data?.type !== 'faros.open' || typeof e.data.path !== 'string') return;
  const target = hashForPath(new URL(e.data.path, location.origin).pathname);
  if (target) navigate(target);
});
// This browser's push subscription goes to the server again on every sign-in (see push.js).
session.onSignedIn(() => { refreshPush(session); });

adoptPathLink();
session.restore().finally(render);
