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
  c.addEventListener('presence', (e) => {
    if (e.detail.type === 'presence.left') { const gone: number = e.detail.userId; }
    else { const name: string = e.detail.member.username; const typing = e.detail.member.state.typing; }
  });
  c.addEventListener('presenceresync', (e) => { const ids: number[] = e.detail.taskIds; });
  const on = await c.enterPresence(1, { typing: true });
  const since: string = on.since;
  await c.setPresenceState(1, {});
  await c.leavePresence(1);
  const members = (await c.call('presence.list', { taskId: 1 })).members;
  // @ts-expect-error a left notification has no member
  c.addEventListener('presence', (e) => { if (e.detail.type === 'presence.left') e.detail.member; });
  // @ts-expect-error taskIds, not taskId
  await c.call('presence.overview', { taskId: 1 });
  // Web Push: the key for PushManager.subscribe, a subscription's toJSON() as is, the devices.
  const { publicKey } = await c.call('push.getPublicKey');
  const device = await c.call('push.subscribe', { endpoint: 'https://push.example/1', keys: { p256dh: 'x', auth: 'y' }, expirationTime: null, label: 'Firefox on Linux' });
  const here: boolean = device.current;
  const used: string | null = (await c.call('push.listDevices')).devices[0].lastUsedAt;
  await c.call('push.removeDevice', { deviceId: device.id });
  // @ts-expect-error the keys are nested, as toJSON() gives them
  await c.call('push.subscribe', { endpoint: 'https://push.example/1', p256dh: 'x', auth: 'y' });
  const message: import('../../faros.js').PushMessage = { v: 1, kind: 'summary', title: 't', body: 'b', url: '/', tag: 'faros-summary', count: 2 };
  const prefs = await c.call('notifications.updatePreferences', { pushEnabled: true, pushCommentAdded: false });
  const pushShared: boolean = prefs.pushTaskShared;
  return title + since + members.length + publicKey + here + used + message.kind + pushShared;
}
f();
