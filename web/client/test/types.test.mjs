import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';

const dir = new URL('..', import.meta.url).pathname;

test('faros.d.ts is fresh (gen-types.mjs --check)', () => {
  execFileSync(process.execPath, [dir + 'gen-types.mjs', '--check'], { stdio: 'inherit' });
});

test('typos in method and param names are type errors (tsc)', (t) => {
  const has = spawnSync('tsc', ['--version']);
  if (has.error) return t.skip('tsc not installed (apt-get install node-typescript)');
  const r = spawnSync('tsc', ['--noEmit', '--strict', '--lib', 'es2022,dom', '--target', 'es2022',
    '--module', 'es2022', '--moduleResolution', 'node', dir + 'test/types/usage.ts'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
