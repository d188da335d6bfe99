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

function startServer(dataDir, port = 0) {
  const p = spawn(bin, ['--port', String(port), '--data-dir', dataDir, '--no-rate-limits', '--log-level', 'warning'], { stdio: ['ignore', 'pipe', 'pipe'] });
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
