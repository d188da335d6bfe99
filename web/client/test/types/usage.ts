// Compiled by test/types.test.mjs with tsc --noEmit: lines marked @ts-expect-error must fail.
import { FarosClient } from '../../faros.js';
const c = new FarosClient('ws://localhost/rpc', { getToken: () => sessionStorage.getItem('faros.token') });
async function f() {
  const t = await c.call('tasks.get', { id: 1 });
  const title: string = t.title;
  await c.call('rpc.ping');
  // @ts-expect-error unknown method
  await c.call('tasks.gett', { id: 1 });
  // @ts-expect-error unknown param
  await c.call('tasks.get', { idd: 1 });
  c.subscribe(['tasks'], (e) => { if (e.type === 'task.deleted') { const id: number = e.data.id; } });
  return title;
}
f();
