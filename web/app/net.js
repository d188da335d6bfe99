// The app's one door to the server: the session (token, user), calls, live events and uploads.
// Everything the app needs from ../client/faros.js goes through here, so the views never touch
// the library directly.
import { FarosClient, FarosError } from '../client/faros.js';

// The token lives in sessionStorage: per tab (two tabs can be two users, as the browser tests
// need), gone when the tab closes, never in a URL or a cookie the server would have to guard.
const TOKEN_KEY = 'faros.token';

const SIGNED_OUT = {
  expired: 'Your session expired. Please sign in again.',
  loggedOut: 'You were signed out.',
  passwordChanged: 'Your password was changed in another session. Please sign in again.',
  passwordReset: 'Your password was reset. Please sign in with the new one.',
};

// The banner appears once the connection has been down this long; shorter blips stay silent.
const LOST_AFTER_MS = 2000;

/** The server's base URL: same origin unless <meta name="faros-server"> names one (dev setup). */
function serverBase() {
  const meta = document.querySelector('meta[name="faros-server"]')?.getAttribute('content');
  return (meta || location.origin).replace(/\/+$/, '');
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class Session {
  constructor() {
    this.base = serverBase();
    /** @type {any} */
    this.user = null;
    /** @type {Set<(ev: any) => void>} */ this.eventListeners = new Set();
    /** @type {Set<() => void>} */ this.resyncListeners = new Set();
    /** @type {Set<(message: string) => void>} */ this.signedOutListeners = new Set();
    /** @type {Set<(status: any) => void>} */ this.connectionListeners = new Set();
    /** @type {Set<(count: number) => void>} */ this.caughtUpListeners = new Set();
    /** @type {Set<(user: any) => void>} */ this.userListeners = new Set();
    /** @type {Set<() => void>} */ this.signedInListeners = new Set();
    /** @type {Set<(change: import('../client/faros.js').PresenceNotification) => void>} */ this.presenceListeners = new Set();
    /** @type {Set<(taskIds: number[]) => void>} */ this.presenceResyncListeners = new Set();
    /** @type {number | null} events caught up after the last reconnection, once known */
    this.caughtUp = null;
    this.down = false;
    this.lost = false;
    this.refused = false;
    this.client = this.makeClient(false);
  }

  /**
   * One client per signed-in session: a signed-in client authenticates first on every
   * (re)connection and schedules the token refresh itself, which it only does for a token it
   * had when the connection opened, so signing in swaps the anonymous client for a new one.
   */
  makeClient(signedIn) {
    const client = new FarosClient(`${this.base.replace(/^http/, 'ws')}/rpc`, {
      getToken: () => (signedIn ? this.token?.accessToken ?? null : null),
      onToken: (token) => { if (this.user) this.token = token; },
      lostAfter: LOST_AFTER_MS,
    });
    client.addEventListener('state', (e) => this.stateChanged(client, /** @type {any} */ (e).detail));
    client.addEventListener('lost', () => {
      if (client !== this.client) return;
      this.lost = true;
      this.report({ state: client.state, lost: true, nextAttemptAt: this.nextTry });
    });
    // After a resubscription the library reports what it replayed (a resync replays nothing:
    // the screens reload, and the banner just says "Back online").
    client.addEventListener('caughtup', (e) => {
      if (client !== this.client) return;
      const { replayed, resync } = /** @type {any} */ (e).detail;
      this.down = false;
      this.caughtUp = resync ? null : replayed;
      for (const fn of this.caughtUpListeners) fn(this.caughtUp);
    });
    client.addEventListener('resync', () => { if (client === this.client) for (const fn of this.resyncListeners) fn(); });
    // Presence (who is on a task, who is typing) comes as notifications of its own, not events:
    // no seq, no replay. After a reconnection the library has entered the open task again and
    // says so, and the views reload who is there.
    client.addEventListener('presence', (e) => { if (client === this.client) for (const fn of this.presenceListeners) fn(e.detail); });
    client.addEventListener('presenceresync', (e) => { if (client === this.client) for (const fn of this.presenceResyncListeners) fn(e.detail.taskIds); });
    client.addEventListener('signedout', (e) => {
      if (client === this.client) this.forget(SIGNED_OUT[/** @type {any} */ (e).detail?.reason] ?? SIGNED_OUT.loggedOut);
    });
    client.addEventListener('authfailed', () => {
      if (client !== this.client) return;
      this.refused = true;
      this.forget(SIGNED_OUT.expired);
    });
    if (signedIn) {
      // "tasks" carries every event of every task the user can see (comments and files too),
      // so one subscription serves every page and never names a task the user may lose.
      client.subscribe(['tasks'], (ev) => {
        for (const fn of this.eventListeners) fn(ev);
      });
    }
    return client.connect();
  }

  stateChanged(client, status) {
    if (client !== this.client) return;
    if (status.state === 'reconnecting' && !this.down) {
      this.down = true;
      this.caughtUp = null;
    }
    if (status.state === 'open') this.lost = false;
    if (status.nextTry) this.nextTry = status.nextTry;
    this.report({ state: status.state, attempt: status.attempt, nextAttemptAt: status.nextTry, lost: this.lost });
  }

  report(status) { for (const fn of this.connectionListeners) fn(status); }

  get token() {
    try { return JSON.parse(sessionStorage.getItem(TOKEN_KEY) ?? 'null'); } catch { return null; }
  }
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, JSON.stringify(value)); else sessionStorage.removeItem(TOKEN_KEY);
  }

  /** Signs in again with the tab's token from before a reload. @returns {Promise<boolean>} */
  async restore() {
    if (!this.token) return false;
    this.swapClient(true);
    // Only a refused token signs the tab out; an unreachable server is waited for.
    for (;;) {
      try {
        this.user = await this.client.call('users.me', {});
        for (const fn of this.signedInListeners) fn();
        return true;
      } catch (err) {
        if (this.refused || /** @type {any} */ (err)?.code === -32001) {
          this.forget('');
          return false;
        }
        await sleep(1000);
      }
    }
  }
  async login(username, password) { this.signedIn(await this.client.call('auth.login', { username, password })); }
  async register(username, email, password) { this.signedIn(await this.client.call('auth.register', { username, email, password })); }
  signedIn({ user, token }) {
    this.token = token;
    this.user = user;
    this.swapClient(true);
    for (const fn of this.signedInListeners) fn();
  }
  swapClient(signedIn) {
    this.client.close();
    this.refused = false;
    this.down = this.lost = false;
    this.client = this.makeClient(signedIn);
  }
  async reloadUser() { this.setUser(await this.call('users.me', {})); }
  setUser(user) { this.user = user; for (const fn of this.userListeners) fn(user); }
  onUserChanged(fn) { this.userListeners.add(fn); }
  /** After signing in, and after a reload restored the session. @param {() => void} fn */
  onSignedIn(fn) { this.signedInListeners.add(fn); }

  async changePassword(currentPassword, newPassword) {
    // This connection's session survives; the fresh token is for the next reconnection.
    this.token = await this.call('users.changePassword', { currentPassword, newPassword });
  }

  async logout() {
    this.loggingOut = true;
    try { await this.client.call('auth.logout', {}, { timeout: 3000 }); } catch { /* signed out locally anyway */ }
    this.loggingOut = false;
    this.forget('You signed out.');
  }

  /** Drops the session locally and tells the app (which shows sign-in with `message`). */
  forget(message) {
    if (this.loggingOut) return;
    const wasSignedIn = this.user != null;
    this.user = null;
    this.token = null;
    this.swapClient(false);
    if (wasSignedIn) for (const fn of this.signedOutListeners) fn(message);
  }

  /**
   * The library adds a requestKey to every write (and keeps it when it resends), so a write
   * whose answer was lost is applied once.
   * @template {import('../client/faros.js').MethodName} M
   * @param {M} method
   * @param {import('../client/faros.js').Params<M>} [params]
   * @param {import('../client/faros.js').CallOptions} [options]
   * @returns {Promise<import('../client/faros.js').Result<M>>}
   */
  call(method, params, options) {
    return /** @type {any} */ (this.client).call(method, params ?? {}, options);
  }

  /**
   * Presence on a task: entered again by the library after every reconnection until left.
   * Failures are swallowed (presence is a nicety; the page works without it): null then.
   * @param {number} taskId @param {Record<string, unknown>} [state]
   */
  enterPresence(taskId, state = {}) { return this.client.enterPresence(taskId, state).catch(() => null); }
  /** A new state (typing) on a task entered; nothing for a task left. @param {number} taskId @param {Record<string, unknown>} state */
  setPresenceState(taskId, state) { return this.client.setPresenceState(taskId, state).catch(() => null); }
  /** @param {number} taskId */
  leavePresence(taskId) {
    // Signed out already: the server left every task, and the new client never entered any.
    if (!this.user) return Promise.resolve(null);
    return this.client.leavePresence(taskId).catch(() => null);
  }

  onEvent(fn) { this.eventListeners.add(fn); }
  onPresence(fn) { this.presenceListeners.add(fn); }
  onPresenceResync(fn) { this.presenceResyncListeners.add(fn); }
  onResync(fn) { this.resyncListeners.add(fn); }
  onSignedOut(fn) { this.signedOutListeners.add(fn); }
  onConnection(fn) { this.connectionListeners.add(fn); }
  onCaughtUp(fn) { this.caughtUpListeners.add(fn); }
  retryNow() { this.client.retryNow(); }

  /**
   * @param {number} taskId @param {File} file
   * @param {{onProgress?: (loaded: number, total: number) => void, signal?: AbortSignal}} [options]
   * @returns {Promise<any>} the File
   */
  upload(taskId, file, options = {}) {
    const { onProgress, signal } = options;
    return this.client.upload(taskId, file, { signal, onProgress: onProgress && ((p) => onProgress(p.loaded, p.total)) });
  }

  // The avatar is not a task file, so it is posted here (small: no progress needed).
  async uploadAvatar(file) {
    const form = new FormData();
    form.append('file', file, file.name);
    return this.rest('POST', '/users/me/avatar', form);
  }
  async removeAvatar() { await this.rest('DELETE', '/users/me/avatar'); }
  async rest(method, path, body) {
    const res = await fetch(`${this.base}${path}`, { method, body, headers: { Authorization: `Bearer ${this.token?.accessToken}` } });
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: a proxy's error page */ }
    if (!res.ok) {
      const e = json?.error ?? { code: res.status, message: `HTTP ${res.status}` };
      throw new FarosError(e.code, e.message, e.data);
    }
    return json;
  }
  avatarUrl(user) {
    if (!user?.avatarUrl) return null;
    return /^https?:/.test(user.avatarUrl) ? user.avatarUrl : `${this.base}${user.avatarUrl}`;
  }
}
