import test from 'node:test';
import assert from 'node:assert/strict';
import { FarosClient, backoffDelay, IDEMPOTENT_METHODS, TIMEOUT, ABORTED } from '../faros.js';
import { readFileSync } from 'node:fs';

// A fake clock: timers run only when the test advances time.
function clock() {
  let t = 0, id = 0; const timers = new Map();
  return {
    now: () => t,
    setTimeout: (f, ms) => { timers.set(++id, { f, at: t + ms }); return id; },
    clearTimeout: (i) => timers.delete(i),
    async advance(ms) {
      const end = t + ms;
      for (;;) {
        const due = [...timers].filter(([, v]) => v.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]); t = due[1].at; due[1].f(); await tick();
      }
      t = end; await tick();
    },
  };
}
const tick = async () => { for (let i = 0; i < 10; i++) await Promise.resolve(); };

// A fake WebSocket the test drives; `server` answers calls.
function fakeSockets(server) {
  const sockets = [];
  class WS {
    constructor(url, proto) { this.url = url; this.proto = proto; this.sent = []; sockets.push(this); }
    send(text) { const m = JSON.parse(text); this.sent.push(m); const r = server(m, this); if (r !== undefined) queueMicrotask(() => this.onmessage?.({ data: JSON.stringify({ jsonrpc: '2.0', id: m.id, ...r }) })); }
    close(code = 1005) { queueMicrotask(() => this.onclose?.({ code })); }
    push(m) { this.onmessage?.({ data: JSON.stringify(m) }); }
  }
  return { WS, sockets };
}

function setup(server, extra = {}) {
  const c = clock();
  const { WS, sockets } = fakeSockets(server);
  const client = new FarosClient('ws://x/rpc', { WebSocket: WS, ...c, random: () => 0.5, ...extra });
  const states = []; client.addEventListener('state', (e) => states.push(e.detail.state));
  return { c, sockets, client, states };
}
const ok = (m) => {
  if (m.method === 'auth.authenticate') return { result: { user: { id: 1 }, expiresAt: new Date(1e6).toISOString() } };
  if (m.method === 'events.subscribe') return { result: { topics: m.params.topics, seq: 10, resync: false } };
  return { result: { echo: m.params ?? null } };
};

test('backoff: full jitter between 0.5 s and 20 s', () => {
  assert.equal(backoffDelay(0, () => 0), 500);
  assert.equal(backoffDelay(20, () => 0.9999), 19998);
  for (let a = 0; a < 12; a++) for (let i = 0; i < 200; i++) {
    const d = backoffDelay(a); assert.ok(d >= 500 && d <= 20000);
  }
  const xs = Array.from({ length: 2000 }, () => backoffDelay(10)); // ceiling 20 s
  const mean = xs.reduce((a, b) => a + b) / xs.length;
  assert.ok(mean > 8500 && mean < 11500, `mean ${mean} near 10 s for uniform jitter`);
});

test('requestKey list matches openrpc.json', () => {
  const doc = JSON.parse(readFileSync(new URL('../../../protocol/openrpc.json', import.meta.url)));
  const want = doc.methods.filter((m) => m.params.some((p) => p.name === 'requestKey')).map((m) => m.name).sort();
  assert.deepEqual([...IDEMPOTENT_METHODS].sort(), want);
});

test('authenticates first, then queued calls; state transitions', async () => {
  const { c, sockets, client, states } = setup(ok, { getToken: () => 'tok' });
  const p = client.call('tasks.get', { id: 1 });
  client.connect();
  sockets[0].onopen(); await tick();
  assert.deepEqual(await p, { echo: { id: 1 } });
  assert.deepEqual(sockets[0].sent.map((m) => m.method), ['auth.authenticate', 'tasks.get']);
  assert.equal(sockets[0].proto, 'faros.v1');
  sockets[0].close(1001); await tick();
  assert.equal(client.state, 'reconnecting');
  await c.advance(600); sockets[1].onopen(); await tick();
  assert.deepEqual(states, ['connecting', 'open', 'reconnecting', 'open']);
  client.close();
  assert.equal(client.state, 'closed');
});

test('auth refusal stops reconnecting', async () => {
  const { c, sockets, client } = setup((m) => m.method === 'auth.authenticate' ? { error: { code: -32001, message: 'no' } } : ok(m), { getToken: () => 'bad' });
  let failed = null; client.addEventListener('authfailed', (e) => { failed = e.detail; });
  client.connect(); sockets[0].onopen(); await tick();
  assert.equal(failed.code, -32001);
  await c.advance(60000);
  assert.equal(sockets.length, 1); assert.equal(client.state, 'closed');
});

test('call timeout and abort', async () => {
  const { c, sockets, client } = setup((m) => m.method === 'slow' ? undefined : ok(m));
  client.connect(); sockets[0].onopen(); await tick();
  const p = client.call('slow', {}, { timeout: 1000 });
  await c.advance(1001);
  await assert.rejects(p, (e) => e.code === TIMEOUT);
  const ac = new AbortController();
  const q = client.call('slow', {}, { signal: ac.signal }); ac.abort();
  await assert.rejects(q, (e) => e.code === ABORTED);
});

test('outage: call waits, is resent with the same requestKey', async () => {
  let answer = false;
  const { c, sockets, client } = setup((m) => m.method === 'tasks.create' && !answer ? undefined : ok(m));
  client.connect(); sockets[0].onopen(); await tick();
  const p = client.call('tasks.create', { title: 'a' });
  const key = sockets[0].sent.at(-1).params.requestKey;
  assert.ok(key);
  sockets[0].close(1006); await tick();
  answer = true;
  await c.advance(5000); sockets[1].onopen(); await tick();
  const r = await p;
  assert.equal(r.echo.requestKey, key);
});

test('events: dedupe by seq, resume with since, resync', async () => {
  let resync = false;
  const { c, sockets, client } = setup((m) => m.method === 'events.subscribe' ? { result: { topics: m.params.topics, seq: resync ? 99 : (m.params.since ?? 10), resync } } : ok(m));
  const got = []; client.subscribe(['tasks'], (e) => got.push(e.seq));
  let resyncs = 0; client.addEventListener('resync', () => resyncs++);
  client.connect(); sockets[0].onopen(); await tick();
  for (const seq of [11, 12, 12, 11, 13]) sockets[0].push({ jsonrpc: '2.0', method: 'event', params: { seq, topic: 'tasks', type: 'task.created' } });
  assert.deepEqual(got, [11, 12, 13]);
  sockets[0].close(1013); await tick(); await c.advance(1000); sockets[1].onopen(); await tick();
  assert.equal(sockets[1].sent.find((m) => m.method === 'events.subscribe').params.since, 13);
  resync = true; sockets[1].close(1013); await tick(); await c.advance(2000); sockets[2].onopen(); await tick();
  assert.equal(resyncs, 1);
});

test('caughtup after a resubscription counts the events replayed before the answer', async () => {
  let replay = [];
  const { c, sockets, client } = setup((m, ws) => {
    if (m.method !== 'events.subscribe') return ok(m);
    for (const seq of replay) ws.push({ jsonrpc: '2.0', method: 'event', params: { seq, topic: 'tasks', type: 'task.created' } });
    return { result: { topics: m.params.topics, seq: replay.at(-1) ?? 10, resync: false } };
  });
  const got = []; client.subscribe(['tasks'], (e) => got.push(e.seq));
  const caught = []; client.addEventListener('caughtup', (e) => caught.push(e.detail));
  client.connect(); sockets[0].onopen(); await tick();
  assert.deepEqual(caught, []); // a first connection catches up on nothing
  sockets[0].push({ jsonrpc: '2.0', method: 'event', params: { seq: 11, topic: 'tasks', type: 'task.created' } });
  replay = [11, 12, 13]; // 11 again: already delivered, not counted
  sockets[0].close(1006); await tick(); await c.advance(1000);
  assert.equal(client.state, 'reconnecting');
  sockets[1].onopen(); await tick();
  assert.deepEqual(got, [11, 12, 13]);
  assert.deepEqual(caught, [{ replayed: 2, resync: false }]);
});

test('heartbeat: a missing pong closes the socket and reconnects', async () => {
  const { c, sockets, client } = setup((m) => m.method === 'rpc.ping' ? undefined : ok(m), { heartbeat: 1000 });
  client.connect(); sockets[0].onopen(); await tick();
  await c.advance(2100);
  assert.equal(client.state, 'reconnecting');
  assert.ok(sockets[0].sent.some((m) => m.method === 'rpc.ping'));
});

test('lost signal after lostAfter', async () => {
  const { c, sockets, client } = setup(ok, { lostAfter: 3000 });
  let lost = 0; client.addEventListener('lost', () => lost++);
  client.connect(); sockets[0].onopen(); await tick();
  sockets[0].close(1006); await tick();
  await c.advance(2500); assert.equal(lost, 0);
  await c.advance(30000); assert.equal(lost, 1);
});

test('an event arriving after a subscribe answer that already counts it is still delivered', async () => {
  const { sockets, client } = setup((m) => m.method === 'events.subscribe' ? { result: { topics: m.params.topics, seq: 5, resync: false } } : ok(m));
  const got = []; client.subscribe(['tasks'], (e) => got.push(e.seq));
  client.connect(); sockets[0].onopen(); await tick();
  sockets[0].push({ jsonrpc: '2.0', method: 'event', params: { seq: 5, topic: 'tasks', type: 'task.created' } });
  assert.deepEqual(got, [5]);
});

test('a connection attempt that never opens is abandoned and retried', async () => {
  const { c, sockets, client } = setup(ok, { timeout: 2000 });
  client.connect();
  await c.advance(2001);
  assert.equal(client.state, 'reconnecting');
  await c.advance(1000);
  assert.equal(sockets.length, 2);
});

// --- presence ---

const member = (userId, state = {}) => ({ userId, username: `u${userId}`, avatarUrl: null, since: '2026-01-01T00:00:00Z', state, sessions: 1 });

test('presence notifications are dispatched as `presence` events, the method as their type', async () => {
  const { sockets, client } = setup(ok);
  const got = []; client.addEventListener('presence', (e) => got.push(/** @type {any} */ (e).detail));
  const events = []; client.subscribe(['tasks'], (e) => events.push(e));
  client.connect(); sockets[0].onopen(); await tick();
  sockets[0].push({ jsonrpc: '2.0', method: 'presence.joined', params: { taskId: 42, member: member(7) } });
  sockets[0].push({ jsonrpc: '2.0', method: 'presence.updated', params: { taskId: 42, member: member(7, { typing: true }) } });
  sockets[0].push({ jsonrpc: '2.0', method: 'presence.left', params: { taskId: 42, userId: 7 } });
  assert.deepEqual(got, [
    { type: 'presence.joined', taskId: 42, member: member(7) },
    { type: 'presence.updated', taskId: 42, member: member(7, { typing: true }) },
    { type: 'presence.left', taskId: 42, userId: 7 },
  ]);
  assert.deepEqual(events, []); // not events: no seq, nothing to resume
  assert.equal(client.lastSeq, null);
});

test('presence: entered tasks are entered again after a reconnection, with the last state, before queued calls', async () => {
  const { c, sockets, client } = setup(ok, { getToken: () => 'tok' });
  client.subscribe(['tasks'], () => {});
  const resyncs = []; client.addEventListener('presenceresync', (e) => resyncs.push(/** @type {any} */ (e).detail));
  client.connect(); sockets[0].onopen(); await tick();
  await client.enterPresence(42);
  await client.enterPresence(43, { typing: true });
  await client.setPresenceState(42, { typing: true });
  await client.setPresenceState(43, {});
  assert.deepEqual(sockets[0].sent.filter((m) => m.method.startsWith('presence.')).map((m) => [m.method, m.params]), [
    ['presence.enter', { taskId: 42, state: {} }], ['presence.enter', { taskId: 43, state: { typing: true } }],
    ['presence.enter', { taskId: 42, state: { typing: true } }], ['presence.enter', { taskId: 43, state: {} }],
  ]);
  assert.deepEqual(resyncs, []); // the first connection resyncs nothing

  sockets[0].close(1006); await tick();
  // While down, a state change is only remembered (the re-entry sends the newest): nothing queues.
  const p = client.setPresenceState(42, { typing: false });
  const q = client.call('tasks.get', { id: 1 });
  assert.equal(await p, null);
  await c.advance(1000); sockets[1].onopen(); await tick();
  await q;
  assert.deepEqual(sockets[1].sent.map((m) => [m.method, m.params]), [
    ['auth.authenticate', { accessToken: 'tok' }], ['events.subscribe', { topics: ['tasks'], since: 10 }],
    ['presence.enter', { taskId: 42, state: { typing: false } }], ['presence.enter', { taskId: 43, state: {} }],
    ['tasks.get', { id: 1 }],
  ]);
  assert.deepEqual(resyncs, [{ taskIds: [42, 43] }]);
});

test('presence: leaving stops the re-entering, and a state for a task left sends nothing', async () => {
  const { c, sockets, client } = setup(ok);
  const resyncs = []; client.addEventListener('presenceresync', (e) => resyncs.push(/** @type {any} */ (e).detail));
  client.connect(); sockets[0].onopen(); await tick();
  await client.enterPresence(42, { typing: true });
  await client.enterPresence(43);
  assert.deepEqual(await client.leavePresence(42), { echo: { taskId: 42 } });
  assert.equal(await client.setPresenceState(42, { typing: true }), null); // a late keystroke after leaving
  assert.equal(await client.setPresenceState(99, {}), null); // never entered
  assert.deepEqual(sockets[0].sent.at(-1), { jsonrpc: '2.0', id: sockets[0].sent.at(-1).id, method: 'presence.leave', params: { taskId: 42 } });
  sockets[0].close(1006); await tick(); await c.advance(1000); sockets[1].onopen(); await tick();
  assert.deepEqual(sockets[1].sent.map((m) => [m.method, m.params]), [['presence.enter', { taskId: 43, state: {} }]]);
  await client.leavePresence(43);
  sockets[1].close(1006); await tick(); await c.advance(5000); sockets[2].onopen(); await tick();
  assert.deepEqual(sockets[2].sent, []);
  // The app still hears that the connection is back, to reload a list's presence marks.
  assert.deepEqual(resyncs, [{ taskIds: [43] }, { taskIds: [] }]);
});

test('presence: a task that can no longer be viewed is forgotten on re-entry; other refusals are reported and kept', async () => {
  let refuse = null;
  const { c, sockets, client } = setup((m) => (m.method === 'presence.enter' && refuse?.[m.params.taskId] ? { error: refuse[m.params.taskId] } : ok(m)));
  const errors = []; client.addEventListener('error', (e) => errors.push(/** @type {any} */ (e).detail.code));
  const resyncs = []; client.addEventListener('presenceresync', (e) => resyncs.push(/** @type {any} */ (e).detail.taskIds));
  client.connect(); sockets[0].onopen(); await tick();
  await client.enterPresence(42); await client.enterPresence(43);
  refuse = { 42: { code: -32004, message: 'not found' }, 43: { code: -32029, message: 'slow down' } };
  sockets[0].close(1006); await tick(); await c.advance(1000); sockets[1].onopen(); await tick();
  assert.equal(client.state, 'open'); // a refused re-entry does not break the connection
  assert.deepEqual(errors, [-32029]);
  assert.deepEqual(resyncs, [[]]);
  refuse = null;
  sockets[1].close(1006); await tick(); await c.advance(5000); sockets[2].onopen(); await tick();
  assert.deepEqual(sockets[2].sent.map((m) => m.params.taskId), [43]);
  assert.deepEqual(resyncs, [[], [43]]);
});

test('presence: signing out elsewhere forgets the tasks', async () => {
  const { c, sockets, client } = setup(ok);
  client.connect(); sockets[0].onopen(); await tick();
  await client.enterPresence(42);
  sockets[0].push({ jsonrpc: '2.0', method: 'auth.signedOut', params: { reason: 'loggedOut' } });
  sockets[0].close(1006); await tick(); await c.advance(1000); sockets[1].onopen(); await tick();
  assert.deepEqual(sockets[1].sent, []);
});
