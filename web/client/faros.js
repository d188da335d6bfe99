// Faros client: JSON-RPC 2.0 over one WebSocket (protocol/README.md is the contract).
// One ES module, no dependencies. Every outside thing (socket, clock, randomness, window and
// document events, XMLHttpRequest) is injectable so tests run it in Node with fakes.

/** Methods that accept `requestKey` (protocol/openrpc.json; test/contract.test.mjs keeps this in step). */
export const IDEMPOTENT_METHODS = new Set([
  'users.updateMe', 'tasks.create', 'tasks.update', 'tasks.delete', 'tasks.bulkUpdate',
  'tasks.addTags', 'tasks.removeTag', 'shares.create', 'shares.update', 'shares.revoke',
  'comments.create', 'comments.update', 'comments.delete', 'files.delete',
]);

/** A JSON-RPC error from the server, or a local one (timeout -1, aborted -2, closed -3). */
export class FarosError extends Error {
  constructor(code, message, data) {
    super(message);
    this.name = 'FarosError';
    this.code = code;
    this.data = data;
  }
}
export const TIMEOUT = -1, ABORTED = -2, CLOSED = -3;
const UNAUTHENTICATED = -32001, NOT_FOUND = -32004;

/** Full-jitter backoff: uniform in [0, min(cap, base * 2^attempt)], floored at base. */
export function backoffDelay(attempt, random = Math.random, base = 500, cap = 20000) {
  const ceiling = Math.min(cap, base * 2 ** attempt);
  return Math.max(base, Math.floor(random() * ceiling));
}

export class FarosClient extends EventTarget {
  /**
   * @param {string} url ws(s)://host/rpc
   * @param {object} [o]
   * @param {() => (string|null|Promise<string|null>)} [o.getToken] the access token, asked for on every (re)connection
   * @param {(t: {accessToken: string, expiresAt: string}) => void} [o.onToken] a refreshed token, for the app to store
   * @param {number} [o.timeout] default call timeout, ms
   * @param {number} [o.heartbeat] send rpc.ping after this much silence, ms
   * @param {number} [o.lostAfter] fire `lost` when not open for this long, ms
   * @param {any} [o.WebSocket] injectables for tests and other runtimes: WebSocket and XMLHttpRequest
   * @param {any} [o.XMLHttpRequest] constructors, a clock, randomness and window/document event sources
   * @param {() => number} [o.now]
   * @param {(f: () => void, ms: number) => any} [o.setTimeout]
   * @param {(t: any) => void} [o.clearTimeout]
   * @param {() => number} [o.random]
   * @param {any} [o.window]
   * @param {any} [o.document]
   */
  constructor(url, o = {}) {
    super();
    this.url = url;
    this.o = o;
    this.WebSocket = o.WebSocket ?? globalThis.WebSocket;
    this.now = o.now ?? (() => Date.now());
    this.setTimeout = o.setTimeout ?? ((f, ms) => setTimeout(f, ms));
    this.clearTimeout = o.clearTimeout ?? ((t) => clearTimeout(t));
    this.random = o.random ?? Math.random;
    this.timeout = o.timeout ?? 15000;
    this.heartbeat = o.heartbeat ?? 20000;
    this.lostAfter = o.lostAfter ?? 10000;
    this.state = 'closed';
    this.attempt = 0;
    this.lastSeq = null; // highest seq handed to a handler
    this.delivered = 0; // events handed to handlers, for the `caughtup` count
    this.resumeSeq = null; // highest seq a subscribe answer vouched for
    this.subs = []; // {topics, handler}
    this.presence = new Map(); // taskId -> the last state sent: the tasks to enter again after a reconnection
    this.wasReady = false; // a handshake completed before: the next one is a reconnection
    this.pending = new Map(); // id -> call record waiting for an answer
    this.queue = []; // calls waiting for an authenticated connection
    this.nextId = 1;
    this.ws = null;
    this.ready = false; // authenticated and subscribed: queued calls may go out
    this.stopped = true;
    const win = o.window ?? globalThis.window, doc = o.document ?? globalThis.document;
    // A phone waking up or a tab coming back is the moment to retry, not after the backoff.
    win?.addEventListener?.('online', () => this.retryNow());
    doc?.addEventListener?.('visibilitychange', () => { if (doc.visibilityState === 'visible') this.retryNow(); });
  }

  /** Opens the connection; reconnects until close() or an authentication refusal. */
  connect() { this.stopped = false; this.lostAt = null; this.open(); return this; }

  close() {
    this.stopped = true;
    this.clearTimers();
    this.ws?.close(1000);
    this.ws = null;
    this.failAll(new FarosError(CLOSED, 'client closed'));
    this.setState('closed');
  }

  /** Calls a method. Writes get a requestKey that stays the same when the call is resent. */
  /** @param {string} method @param {any} [params] @param {{timeout?: number, signal?: AbortSignal}} opts */
  call(method, params, { timeout = this.timeout, signal } = {}) {
    if (IDEMPOTENT_METHODS.has(method) && !(params && params.requestKey)) {
      params = { ...params, requestKey: randomKey(this.random) };
    }
    return new Promise((resolve, reject) => {
      const c = { method, params, resolve, reject };
      const finish = (err) => {
        this.queue = this.queue.filter((q) => q !== c);
        if (c.id != null) this.pending.delete(c.id);
        reject(err);
      };
      // Deadlines are timers; the heartbeat catches a throttled tab, the timer catches the rest.
      c.timer = this.setTimeout(() => finish(new FarosError(TIMEOUT, `${method} timed out`)), timeout);
      c.done = () => { this.clearTimeout(c.timer); signal?.removeEventListener('abort', c.abort); };
      c.abort = () => { c.done(); finish(new FarosError(ABORTED, `${method} aborted`)); };
      if (signal?.aborted) return c.abort();
      signal?.addEventListener('abort', c.abort);
      if (this.ready) this.send(c);
      else this.queue.push(c);
    });
  }

  /** Subscribes once; the client re-subscribes with `since` after every reconnection. */
  subscribe(topics, handler) {
    const sub = { topics, handler };
    this.subs.push(sub);
    if (this.ready) this.rpc('events.subscribe', this.subParams(topics)).then((r) => this.afterSubscribe(r)).catch((e) => this.emit('error', e));
    return () => {
      this.subs = this.subs.filter((s) => s !== sub);
      const still = new Set(this.subs.flatMap((s) => s.topics));
      const gone = topics.filter((t) => !still.has(t));
      if (this.ready && gone.length) this.rpc('events.unsubscribe', { topics: gone }).catch(() => {});
    };
  }

  // --- presence ---

  /**
   * Enters presence on a task (presence.enter; calling it again replaces the state) and
   * remembers it: after every reconnection the client enters again with the last state.
   */
  enterPresence(taskId, state = {}, opts) {
    this.presence.set(taskId, state);
    return this.call('presence.enter', { taskId, state }, opts);
  }

  /**
   * Replaces this session's state on a task it entered; resolves with null and sends nothing for
   * a task it is not on (a late "typing" after leaving must not enter again). While the
   * connection is down the state is only remembered: the re-entry sends the latest, so typing
   * updates never pile up behind an outage.
   */
  setPresenceState(taskId, state = {}, opts) {
    if (!this.presence.has(taskId)) return Promise.resolve(null);
    if (!this.ready) { this.presence.set(taskId, state); return Promise.resolve(null); }
    return this.enterPresence(taskId, state, opts);
  }

  /** Leaves a task (presence.leave) and stops entering it again after reconnections. */
  leavePresence(taskId, opts) {
    this.presence.delete(taskId);
    return this.call('presence.leave', { taskId }, opts);
  }

  /** A signed link for a file (files.downloadUrl); it works without the token. */
  async downloadUrl(id) { return (await this.call('files.downloadUrl', { id })).url; }

  /**
   * Uploads with XMLHttpRequest because fetch has no upload progress.
   * @returns {Promise<any>} the File the server stored
   */
  async upload(taskId, file, /** @type {{onProgress?: (p: {loaded: number, total: number}) => void, signal?: AbortSignal}} */ { onProgress, signal } = {}) {
    const token = await this.o.getToken?.();
    const XHR = this.o.XMLHttpRequest ?? globalThis.XMLHttpRequest;
    const base = this.url.replace(/^ws/, 'http').replace(/\/rpc$/, '');
    return new Promise((resolve, reject) => {
      const xhr = new XHR();
      xhr.open('POST', `${base}/tasks/${encodeURIComponent(taskId)}/files`);
      if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
      xhr.upload.onprogress = (e) => onProgress?.({ loaded: e.loaded, total: e.total });
      xhr.onload = () => {
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch { /* a proxy's HTML error page */ }
        if (xhr.status >= 200 && xhr.status < 300) return resolve(body);
        const e = body?.error ?? { code: xhr.status, message: `upload failed: HTTP ${xhr.status}` };
        reject(new FarosError(e.code, e.message, e.data));
      };
      xhr.onerror = () => reject(new FarosError(CLOSED, 'upload failed: network error'));
      xhr.onabort = () => reject(new FarosError(ABORTED, 'upload aborted'));
      signal?.addEventListener('abort', () => xhr.abort());
      const form = new FormData();
      form.append('file', file, file.name);
      xhr.send(form);
    });
  }

  // --- connection ---

  open() {
    this.clearTimers();
    this.ready = false;
    if (this.state !== 'reconnecting') this.setState('connecting');
    let ws;
    try { ws = new this.WebSocket(this.url, 'faros.v1'); } catch (e) { return this.lost(1006); }
    this.ws = ws;
    ws.onopen = () => { if (ws === this.ws) this.handshake(); };
    ws.onmessage = (m) => { if (ws === this.ws) this.receive(m.data); };
    ws.onclose = (e) => { if (ws === this.ws) this.lost(e.code); };
    ws.onerror = () => {}; // a close event always follows
    // A connection attempt can hang (seen against a server restarting on the same port): give
    // up on it after one call timeout, detach it so its late events are ignored, and retry.
    this.beatTimer = this.setTimeout(() => {
      if (ws !== this.ws || this.state === 'open') return;
      try { ws.close(); } catch { /* not yet open: some implementations throw */ }
      this.lost(1006);
    }, this.timeout);
  }

  async handshake() {
    const ws = this.ws;
    this.setState('open');
    this.heard();
    let present = [];
    try {
      // auth.authenticate first, before any queued call, so no call runs anonymous by accident.
      const token = await this.o.getToken?.();
      if (token) this.scheduleRefresh((await this.rpc('auth.authenticate', { accessToken: token })).expiresAt);
      if (this.subs.length) {
        // The server sends what it replays before its answer, so the events handed over between
        // here and the answer are what this connection caught up on.
        const before = this.delivered, resuming = this.lastSeq != null || this.resumeSeq != null;
        const r = await this.rpc('events.subscribe', this.subParams(this.subs.flatMap((s) => s.topics)));
        this.afterSubscribe(r);
        if (resuming && ws === this.ws) this.emit('caughtup', { replayed: this.delivered - before, resync: r.resync });
      }
      // Presence is per connection and never replayed: a new one is on no task until it enters.
      present = await this.reenter();
    } catch (e) {
      if (ws !== this.ws) return;
      if (e.code === UNAUTHENTICATED) {
        // Reconnecting cannot help a refused token: stop and let the app sign in again.
        this.emit('authfailed', e);
        return this.close();
      }
      return ws.close(4000); // anything else: treat as a broken connection
    }
    if (ws !== this.ws) return;
    this.attempt = 0;
    this.ready = true;
    const q = this.queue; this.queue = [];
    q.forEach((c) => this.send(c));
    // Who is there changed unseen while the connection was down: the app reloads presence now.
    if (this.wasReady) this.emit('presenceresync', { taskIds: present });
    this.wasReady = true;
  }

  /**
   * Enters every remembered task again with its last state, ahead of queued calls. A state
   * changed while this runs is sent in one more round. A task the session can no longer view
   * (-32004) is forgotten; other refusals are reported and the task kept for the next time.
   * @returns {Promise<number[]>} the tasks the session is on now
   */
  async reenter() {
    const sent = new Map(), on = new Set();
    for (;;) {
      const todo = [...this.presence].filter(([taskId, state]) => sent.get(taskId) !== state);
      if (!todo.length) break;
      await Promise.all(todo.map(async ([taskId, state]) => {
        sent.set(taskId, state);
        try {
          await this.rpc('presence.enter', { taskId, state });
          on.add(taskId);
        } catch (e) {
          if (e.code === NOT_FOUND) { if (this.presence.get(taskId) === state) this.presence.delete(taskId); }
          else if (e.code !== CLOSED && e.code !== TIMEOUT) this.emit('error', e);
        }
      }));
    }
    return [...on].filter((taskId) => this.presence.has(taskId));
  }

  lost(code) {
    this.clearTimers();
    this.ws = null;
    this.ready = false;
    // Calls sent but unanswered may or may not have run: writes carry a requestKey, so resending is safe.
    for (const c of this.pending.values()) { c.id = null; if (!c.internal) this.queue.push(c); else c.reject(new FarosError(CLOSED, 'connection lost')); }
    this.pending.clear();
    if (this.stopped) return;
    if (this.lostAt == null) {
      this.lostAt = this.now();
      this.lostTimer = this.setTimeout(() => this.emit('lost', { since: this.lostAt }), this.lostAfter);
    }
    // 1013 (slow consumer) and 1011 (internal error) ask for a backoff; 1001 (shutdown) is worth
    // an early try elsewhere; 1008 after idleness is fine to retry, but a policy refusal
    // (origin, too many calls) repeats, so backoff keeps that from hammering the server.
    let delay = backoffDelay(this.attempt, this.random);
    if (code === 1001 && this.attempt === 0) delay = Math.floor(this.random() * 500);
    if (code === 1002 || code === 1003 || code === 1007 || code === 1009) this.emit('error', new FarosError(CLOSED, `closed with ${code}: client bug`));
    this.attempt++;
    this.nextTry = this.now() + delay;
    this.setState('reconnecting');
    this.retryTimer = this.setTimeout(() => this.open(), delay);
  }

  /** Skips the remaining backoff (browser came online or tab became visible). */
  retryNow() {
    if (this.state !== 'reconnecting' || this.stopped) return;
    this.clearTimeout(this.retryTimer);
    this.open();
  }

  receive(text) {
    this.heard();
    let m;
    try { m = JSON.parse(text); } catch { return; }
    if (m.id != null && this.pending.has(m.id)) {
      const c = this.pending.get(m.id);
      this.pending.delete(m.id);
      c.done();
      return m.error ? c.reject(new FarosError(m.error.code, m.error.message, m.error.data)) : c.resolve(m.result);
    }
    if (m.method === 'event') return this.deliver(m.params);
    // presence.joined, presence.updated, presence.left: one `presence` event, the method as its type.
    if (typeof m.method === 'string' && m.method.startsWith('presence.')) return this.emit('presence', { type: m.method, ...m.params });
    if (m.method === 'auth.signedOut') {
      this.clearTimeout(this.refreshTimer);
      this.presence.clear(); // signing out left every task
      this.emit('signedout', m.params);
    }
  }

  deliver(ev) {
    // The server never repeats or reorders within a session; across a resume it might
    // overlap, so anything not newer than what was delivered is dropped.
    if (this.lastSeq != null && ev.seq <= this.lastSeq) return;
    this.lastSeq = ev.seq;
    this.delivered++;
    for (const s of this.subs) if (matches(s.topics, ev.topic)) s.handler(ev);
  }

  afterSubscribe(r) {
    if (r.resync) this.emit('resync', { seq: r.seq });
    // The answer's seq is only a resume point, never a dedupe mark: the server can answer with
    // a seq whose event is still on its way (seen against the real server), and dropping it
    // would lose it. Duplicates from resuming a little early are dropped by seq in deliver().
    if (this.resumeSeq == null || r.seq > this.resumeSeq) this.resumeSeq = r.seq;
  }

  subParams(topics) {
    const since = Math.max(this.lastSeq ?? -1, this.resumeSeq ?? -1);
    return since < 0 ? { topics } : { topics, since };
  }

  // --- heartbeat and token refresh ---

  heard() {
    this.lastHeard = this.now();
    this.clearTimeout(this.beatTimer);
    this.beatTimer = this.setTimeout(() => this.beat(), this.heartbeat);
  }

  beat() {
    // Compare clocks, not timer counts: a throttled background tab fires late, and if the
    // silence is already past the deadline the connection is treated as dead at once.
    const ws = this.ws;
    if (!ws) return;
    const sent = this.now();
    this.rpc('rpc.ping', undefined, this.heartbeat).catch(() => { if (ws === this.ws && this.lastHeard <= sent) ws.close(4001); });
  }

  scheduleRefresh(expiresAt) {
    this.clearTimeout(this.refreshTimer);
    const ms = Date.parse(expiresAt) - this.now();
    if (!(ms > 0)) return;
    // Refresh at 80% of the lifetime so a slow network still has time before expiry.
    this.refreshTimer = this.setTimeout(async () => {
      try {
        const t = await this.rpc('auth.refresh');
        this.o.onToken?.(t);
        this.emit('token', t);
        this.scheduleRefresh(t.expiresAt);
      } catch (e) { this.emit('error', e); }
    }, ms * 0.8);
  }

  // --- plumbing ---

  /** An internal call that goes out now, ahead of the queue, and is never resent. */
  rpc(method, params, timeout = this.timeout) {
    return new Promise((resolve, reject) => {
      const c = { method, params, resolve, reject, internal: true };
      c.timer = this.setTimeout(() => { this.pending.delete(c.id); reject(new FarosError(TIMEOUT, `${method} timed out`)); }, timeout);
      c.done = () => this.clearTimeout(c.timer);
      if (!this.ws) { c.done(); return reject(new FarosError(CLOSED, 'not connected')); }
      this.send(c);
    });
  }

  send(c) {
    c.id = this.nextId++;
    this.pending.set(c.id, c);
    const msg = { jsonrpc: '2.0', id: c.id, method: c.method };
    if (c.params !== undefined) msg.params = c.params;
    this.ws.send(JSON.stringify(msg));
  }

  failAll(err) {
    for (const c of [...this.pending.values(), ...this.queue]) { c.done?.(); c.reject(err); }
    this.pending.clear();
    this.queue = [];
  }

  clearTimers() {
    for (const t of ['beatTimer', 'retryTimer', 'refreshTimer']) this.clearTimeout(this[t]);
  }

  setState(state) {
    if (state === 'open') { this.clearTimeout(this.lostTimer); this.lostAt = null; }
    if (state === this.state && state !== 'reconnecting') return;
    this.state = state;
    this.emit('state', state === 'reconnecting' ? { state, attempt: this.attempt, nextTry: this.nextTry } : { state });
  }

  emit(type, detail) { this.dispatchEvent(Object.assign(new Event(type), { detail })); }
}

function matches(topics, topic) {
  // An event for a task held as task:<id> may still arrive on `tasks` and vice versa; hand it to
  // every subscriber whose topics include either form.
  return topics.includes(topic) || (topic.startsWith('task:') && topics.includes('tasks'));
}

function randomKey(random) {
  const c = globalThis.crypto;
  if (c?.randomUUID && random === Math.random) return c.randomUUID();
  return Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
}
