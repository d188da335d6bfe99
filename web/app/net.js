// The app's one door to the server: the session (token, user), calls, live events and uploads.
// Everything the app needs from ../client/faros.js goes through here, so the views never touch
// the library directly.
import { FarosClient } from '../client/faros.js';

// The token lives in sessionStorage: per tab (two tabs can be two users, as the browser tests
// need), gone when the tab closes, never in a URL or a cookie the server would have to guard.
const TOKEN_KEY = 'faros.token';

const SIGNED_OUT = {
  expired: 'Your session expired. Please sign in again.',
  loggedOut: 'You were signed out.',
  passwordChanged: 'Your password was changed in another session. Please sign in again.',
  passwordReset: 'Your password was reset. Please sign in with the new one.',
};

/** The server's base URL: same origin unless <meta name="faros-server"> names one (dev setup). */
function serverBase() {
  const meta = document.querySelector('meta[name="faros-server"]')?.getAttribute('content');
  return (meta || location.origin).replace(/\/+$/, '');
}

export class Session {
  constructor() {
    this.base = serverBase();
    /** @type {any} */
    this.user = null;
    this.client = new FarosClient({ url: `${this.base.replace(/^http/, 'ws')}/rpc` });
    /** @type {Set<(ev: any) => void>} */ this.eventListeners = new Set();
    /** @type {Set<() => void>} */ this.resyncListeners = new Set();
    /** @type {Set<(message: string) => void>} */ this.signedOutListeners = new Set();
    /** @type {Set<(status: any) => void>} */ this.connectionListeners = new Set();
    /** @type {Set<(count: number) => void>} */ this.caughtUpListeners = new Set();
    /** @type {Set<(user: any) => void>} */ this.userListeners = new Set();
    this.viewTopics = [];
    this.missed = 0;
    /** @type {number | null} events caught up after the last reconnection, once known */
    this.caughtUp = null;
    this.client.on('event', (ev) => {
      if (this.client.state !== 'open') this.missed += 1;
      for (const fn of this.eventListeners) fn(ev);
    });
    this.client.on('resync', () => { for (const fn of this.resyncListeners) fn(); });
    // The library refreshes the token before it expires; keep the fresh one for the next reload.
    this.client.on('token', (token) => { if (token && this.user) sessionStorage.setItem(TOKEN_KEY, JSON.stringify(token)); });
    this.client.on('signedOut', ({ reason }) => this.forget(SIGNED_OUT[reason] ?? SIGNED_OUT.loggedOut));
    this.client.on('state', (status) => {
      if (status.state === 'reconnecting') { this.missed = 0; this.caughtUp = null; }
      for (const fn of this.connectionListeners) fn(status);
    });
    this.client.on('caughtUp', () => {
      this.caughtUp = this.missed;
      for (const fn of this.caughtUpListeners) fn(this.missed);
    });
  }

  get token() {
    try { return JSON.parse(sessionStorage.getItem(TOKEN_KEY) ?? 'null'); } catch { return null; }
  }
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, JSON.stringify(value)); else sessionStorage.removeItem(TOKEN_KEY);
    this.client.setToken(value);
  }

  /** Signs in again with a token kept from before a reload. @returns {Promise<boolean>} */
  async restore() {
    const token = this.token;
    if (!token) return false;
    this.client.setToken(token);
    // Only a refused token signs the tab out; an unreachable server is waited for.
    for (;;) {
      try {
        const { user } = await this.client.call('auth.authenticate', { accessToken: token.accessToken });
        this.user = user;
        await this.startLive();
        return true;
      } catch (err) {
        if (/** @type {any} */ (err)?.code === -32001) {
          this.token = null;
          return false;
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }
  async login(username, password) { this.signedIn(await this.client.call('auth.login', { username, password })); await this.startLive(); }
  async register(username, email, password) { this.signedIn(await this.client.call('auth.register', { username, email, password })); await this.startLive(); }
  signedIn({ user, token }) { this.user = user; this.token = token; }
  async reloadUser() { this.setUser(await this.call('users.me', {})); }
  setUser(user) { this.user = user; for (const fn of this.userListeners) fn(user); }
  onUserChanged(fn) { this.userListeners.add(fn); }

  async changePassword(currentPassword, newPassword) {
    this.token = await this.call('users.changePassword', { currentPassword, newPassword });
  }

  async logout() {
    try { await this.client.call('auth.logout', {}, { timeout: 3000 }); } catch { /* signed out locally anyway */ }
    this.forget('You signed out.');
  }

  /** Drops the session locally and tells the app (which shows sign-in with `message`). */
  forget(message) {
    const wasSignedIn = this.user != null;
    this.user = null;
    this.token = null;
    this.client.close();
    this.viewTopics = [];
    if (wasSignedIn) for (const fn of this.signedOutListeners) fn(message);
  }

  /**
   * @param {string} method
   * @param {any} [params]
   * @param {{timeout?: number, signal?: AbortSignal, write?: boolean}} [options]
   */
  call(method, params = {}, options = {}) {
    const { write, ...rest } = options;
    // Writes carry a requestKey so a retry after a lost answer is not applied twice.
    if (write && !('requestKey' in params)) params = { ...params, requestKey: crypto.randomUUID() };
    return this.client.call(method, params, rest);
  }

  async startLive() { await this.client.subscribe(['tasks']); }

  /** The topics of the current view (besides "tasks", always on). */
  async setViewTopics(topics) {
    const drop = this.viewTopics.filter((t) => !topics.includes(t));
    const add = topics.filter((t) => !this.viewTopics.includes(t));
    this.viewTopics = topics;
    if (drop.length) await this.client.unsubscribe(drop).catch(() => {});
    if (add.length) await this.client.subscribe(add);
  }

  onEvent(fn) { this.eventListeners.add(fn); }
  onResync(fn) { this.resyncListeners.add(fn); }
  onSignedOut(fn) { this.signedOutListeners.add(fn); }
  onConnection(fn) { this.connectionListeners.add(fn); }
  onCaughtUp(fn) { this.caughtUpListeners.add(fn); }
  retryNow() { this.client.reconnectNow(); }

  /** @returns {Promise<any>} the File */
  /** @param {number} taskId @param {File} file @param {{onProgress?: (loaded: number, total: number) => void, signal?: AbortSignal}} [options] */
  upload(taskId, file, options = {}) {
    return this.client.upload(`${this.base}/tasks/${taskId}/files`, file, { token: this.token?.accessToken, ...options });
  }
  uploadAvatar(file) {
    return this.client.upload(`${this.base}/users/me/avatar`, file, { token: this.token?.accessToken });
  }
  async removeAvatar() {
    const res = await fetch(`${this.base}/users/me/avatar`, { method: 'DELETE', headers: { Authorization: `Bearer ${this.token?.accessToken}` } });
    if (!res.ok && res.status !== 404) throw new Error(`Could not remove the avatar (HTTP ${res.status}).`);
  }
  avatarUrl(user) {
    if (!user?.avatarUrl) return null;
    return /^https?:/.test(user.avatarUrl) ? user.avatarUrl : `${this.base}${user.avatarUrl}`;
  }
}
