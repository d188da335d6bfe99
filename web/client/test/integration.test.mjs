// Runs faros.js against the real server binary named by FAROS_BIN (scripts/test sets it to the
// release build). Without it the test is skipped, unless FAROS_TEST_REQUIRE_ALL=1 (CI) makes
// that a failure.
// Node 20 needs --experimental-websocket for a global WebSocket; scripts/test-web-client passes it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FarosClient } from '../faros.js';

const bin = process.env.FAROS_BIN ?? '';
const missing = typeof WebSocket === 'undefined'
  ? 'no global WebSocket in this Node: run with --experimental-websocket (Node 20) or Node >= 22'
  : !bin || !existsSync(bin) ? `no server binary at '${bin}' (set FAROS_BIN)` : false;
if (missing && process.env.FAROS_TEST_REQUIRE_ALL === '1') {
  throw new Error(`integration test required (FAROS_TEST_REQUIRE_ALL=1): ${missing}`);
}
const skip = missing;

function startServer(dataDir, port = 0, env = {}) {
  const p = spawn(bin, ['--port', String(port), '--data-dir', dataDir, '--no-rate-limits', '--log-level', 'warning'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    let out = '';
    const seen = (d) => {
      out += d;
      const m = out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) resolve({ proc: p, port: Number(m[1]) });
    };
    p.stdout.on('data', seen); p.stderr.on('data', seen);
    p.on('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
}
const stop = (proc) => new Promise((r) => { proc.once('exit', r); proc.kill('SIGTERM'); });
const waitFor = async (f, ms = 30000) => {
  const end = Date.now() + ms;
  while (!f()) { if (Date.now() > end) throw new Error('timed out waiting'); await new Promise((r) => setTimeout(r, 20)); }
};

test('register, subscribe, server restart, resume without gaps', { skip, timeout: 60000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faros-jsc-'));
  let server = await startServer(dir);
  const url = `ws://127.0.0.1:${server.port}/rpc`;
  let token = null;
  let gate = null; // holds the first client's re-authentication until the second client has written
  const a = new FarosClient(url, { getToken: async () => { await gate; return token; } }).connect();
  try {
    const reg = await a.call('auth.register', { username: 'jsc_' + Date.now() % 1e6, email: `jsc${Date.now()}@example.com`, password: 'correct horse' });
    token = reg.token.accessToken;
    const events = [];
    a.subscribe(['tasks'], (e) => events.push(e));
    await a.call('tasks.create', { title: 'one' });
    await waitFor(() => events.length === 1);
    assert.equal(events[0].type, 'task.created');

    let release; gate = new Promise((r) => { release = r; });
    const states = []; a.addEventListener('state', (e) => states.push(e.detail.state));
    await stop(server.proc);
    server = await startServer(dir, server.port);
    // Written while `a` is away: it must arrive through `since`, not live.
    const b = new FarosClient(url, { getToken: () => token }).connect();
    await b.call('tasks.create', { title: 'two' });
    b.close();
    release(); // `a` may be deep in its backoff (up to 20 s) after failing while the server was down
    await waitFor(() => events.length === 2);
    await a.call('tasks.create', { title: 'three' });
    await waitFor(() => events.length === 3);
    assert.deepEqual(events.map((e) => e.data.title), ['one', 'two', 'three']);
    for (let i = 1; i < events.length; i++) assert.ok(events[i].seq > events[i - 1].seq);
    assert.ok(states.includes('reconnecting') && states.at(-1) === 'open', states.join(','));
    assert.equal((await a.call('users.me')).id, reg.user.id); // re-authenticated
  } finally {
    a.close();
    await stop(server.proc);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('presence: seen by another person, entered again with the last state after a restart, gone after leaving', { skip, timeout: 90000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faros-jsc-'));
  // The typing state must outlive two reconnections' backoff (10 s by default).
  const env = { FAROS_PRESENCE_STATE_LIFETIME: '60s' };
  let server = await startServer(dir, 0, env);
  const url = `ws://127.0.0.1:${server.port}/rpc`;
  const stamp = Date.now() % 1e6;
  const tokens = {};
  const a = new FarosClient(url, { getToken: () => tokens.a ?? null }).connect();
  const b = new FarosClient(url, { getToken: () => tokens.b ?? null }).connect();
  try {
    const ra = await a.call('auth.register', { username: `jsp_a${stamp}`, email: `jsp_a${stamp}@example.com`, password: 'correct horse' });
    const rb = await b.call('auth.register', { username: `jsp_b${stamp}`, email: `jsp_b${stamp}@example.com`, password: 'correct horse' });
    tokens.a = ra.token.accessToken; tokens.b = rb.token.accessToken;
    const task = await a.call('tasks.create', { title: 'presence' });
    await a.call('shares.create', { taskId: task.id, username: rb.user.username, permission: 'edit' });
    b.subscribe(['tasks'], () => {});
    const seen = []; b.addEventListener('presence', (e) => seen.push(/** @type {any} */ (e).detail));
    const resynced = { a: [], b: [] };
    a.addEventListener('presenceresync', (e) => resynced.a.push(/** @type {any} */ (e).detail.taskIds));
    b.addEventListener('presenceresync', (e) => resynced.b.push(/** @type {any} */ (e).detail.taskIds));
    // Subscribed before a enters (the subscription answer comes before any of its notifications).
    await b.call('rpc.ping');

    await a.enterPresence(task.id);
    await waitFor(() => seen.some((p) => p.type === 'presence.joined' && p.member.userId === ra.user.id));
    await a.setPresenceState(task.id, { typing: true });
    await waitFor(() => seen.some((p) => p.type === 'presence.updated' && p.member.state.typing === true));

    await stop(server.proc);
    server = await startServer(dir, server.port, env);
    await waitFor(() => resynced.a.length === 1 && resynced.b.length === 1);
    assert.deepEqual(resynced.a, [[task.id]]);
    // a is back on the task with its last state; b, reconnected too, lists it.
    const list = await b.call('presence.list', { taskId: task.id });
    assert.deepEqual(list.members.map((m) => [m.userId, m.state]), [[ra.user.id, { typing: true }]]);

    seen.length = 0;
    await a.leavePresence(task.id);
    await waitFor(() => seen.some((p) => p.type === 'presence.left' && p.userId === ra.user.id));
    await stop(server.proc);
    server = await startServer(dir, server.port, env);
    await waitFor(() => resynced.a.length === 2 && resynced.b.length === 2);
    assert.deepEqual(resynced.a[1], []);
    assert.deepEqual((await b.call('presence.list', { taskId: task.id })).members, []);
  } finally {
    a.close(); b.close();
    await stop(server.proc);
    rmSync(dir, { recursive: true, force: true });
  }
});
