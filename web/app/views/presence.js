// Presence: who else has a task open, shown as avatars on the task page, "… is typing" under its
// comments, and a mark in the task list. The server sends one member per person (however many
// tabs) and sends our own changes to us too: every view here leaves the signed-in user out.
import { h, replace } from '../dom.js';

/** Avatars shown before the rest collapse into "+N". */
export const MAX_AVATARS = 5;
const HUES = 8; // .hue-0 … .hue-7 in styles.css: an initials circle keeps its colour per person

/** "ana" → "A", "ana.lima" → "AL", "ben_2" → "B2". @param {string} name */
export function initials(name) {
  const parts = name.split(/[._\-\s]+/).filter(Boolean);
  const letters = parts.length > 1 ? parts[0][0] + parts[1][0] : (parts[0] ?? '?')[0];
  return letters.toUpperCase();
}

/** @param {string[]} names @param {string} one @param {string} many */
function people(names, one, many) {
  if (names.length === 1) return `${names[0]} ${one}`;
  if (names.length === 2) return `${names[0]} and ${names[1]} ${many}`;
  return `${names.length} people ${many}`;
}

/** "Alice is typing…", "Alice and Bob are typing…", "3 people are typing…"; '' for nobody. @param {string[]} names */
export function typingText(names) {
  return names.length ? people(names, 'is typing…', 'are typing…') : '';
}

/** "ana is here", "ana and ben are here", "3 people are here"; '' for nobody. @param {(string | undefined)[]} names unknown ones undefined */
export function hereText(names) {
  if (!names.length) return '';
  if (names.some((n) => !n)) return names.length === 1 ? 'Someone is here' : `${names.length} people are here`;
  return people(/** @type {string[]} */ (names), 'is here', 'are here');
}

/** Whether a member's state says they are typing (the state is whatever their client sent). */
export function isTyping(member) {
  return member?.state?.typing === true;
}

/**
 * The avatars of the others on a task: at most MAX_AVATARS, then "+N"; a person without a
 * picture gets a circle with their initials. Each carries the name as its accessible label.
 */
export function presenceBar(ctx) {
  const list = h('div', { class: 'presence-avatars' });
  const el = h('div', { class: 'presence', role: 'group', 'aria-label': 'Also on this task', testid: 'presence', hidden: true },
    h('span', { class: 'presence-label', text: 'Also here' }), list);

  /** @param {any} m a PresenceMember */
  const avatar = (m) => {
    const url = ctx.session.avatarUrl(m);
    const cls = `presence-avatar${isTyping(m) ? ' typing' : ''}`;
    const common = { title: m.username, testid: 'presence-avatar', 'data-user-id': m.userId };
    return url ? h('img', { ...common, class: cls, src: url, alt: m.username })
      : h('span', { ...common, class: `${cls} initials hue-${m.userId % HUES}`, role: 'img', 'aria-label': m.username, text: initials(m.username) });
  };

  return {
    el,
    /** @param {any[]} others the members but the signed-in user, in the order they came */
    show(others) {
      el.hidden = others.length === 0;
      const rest = others.slice(MAX_AVATARS);
      const more = rest.length ? h('span', { class: 'presence-avatar presence-more', testid: 'presence-more', title: rest.map((m) => m.username).join(', '),
        role: 'img', 'aria-label': `${rest.length} more: ${rest.map((m) => m.username).join(', ')}`, text: `+${rest.length}` }) : null;
      replace(list, others.slice(0, MAX_AVATARS).map(avatar), more);
    },
  };
}

/**
 * Who is on one task, kept from presence.list and the presence.* notifications. `onChange`
 * gets the others (never the signed-in user) whenever that changes.
 * @param {any} ctx @param {number} taskId @param {(others: any[]) => void} onChange
 */
export function taskPresence(ctx, taskId, onChange) {
  /** @type {Map<number, any>} userId -> member, in the order they came (Map keeps it on update) */
  let members = new Map();
  let entered = false;
  let disposed = false;
  const changed = () => { if (!disposed) onChange([...members.values()].filter((m) => m.userId !== ctx.session.user?.id)); };

  async function load() {
    try {
      const r = await ctx.session.call('presence.list', { taskId });
      if (disposed) return;
      members = new Map(r.members.map((m) => [m.userId, m]));
      changed();
    } catch { /* presence is a nicety: the page works without it */ }
  }

  return {
    /** Enters the task (once; the library enters again after reconnections), then loads who is there. */
    async enter() {
      if (!entered) {
        entered = true;
        await ctx.session.enterPresence(taskId);
      }
      if (!disposed) await load();
    },
    reload: load,
    /** @param {import('../../client/faros.js').PresenceNotification} p */
    apply(p) {
      if (p.taskId !== taskId) return;
      if (p.type === 'presence.left') members.delete(p.userId);
      else members.set(p.member.userId, p.member);
      changed();
    },
    leave() {
      disposed = true;
      if (entered) ctx.session.leavePresence(taskId);
    },
  };
}

/**
 * The task list's marks: who else has each listed task open, from presence.overview and kept
 * live by the notifications (the list's session holds `tasks`, so it gets them for every task
 * the user can see). The overview names only user ids; names come from the notifications, the
 * tasks' owners, and for the rest one presence.list per task that needs it.
 */
export function listPresence(ctx, onChange) {
  /** @type {Map<number, Set<number>>} taskId -> the others on it */
  const here = new Map();
  /** @type {Map<number, string>} userId -> username */
  const names = new Map();
  /** @type {Set<number>} tasks an overview answered for: notifications keep those current */
  const covered = new Set();
  let generation = 0;

  const others = (ids) => new Set(ids.filter((u) => u !== ctx.session.user?.id));
  function set(taskId, users) {
    if (users.size) here.set(taskId, users); else here.delete(taskId);
  }

  return {
    /** @param {number} taskId @returns {string} '' when nobody else is there */
    title(taskId) {
      return hereText([...(here.get(taskId) ?? [])].map((u) => names.get(u)));
    },
    /** Learns names the tasks already carry (the owner is often the one on a shared task). */
    learn(tasks) { for (const t of tasks) if (t.ownerUsername) names.set(t.ownerId, t.ownerUsername); },
    /**
     * Asks for the listed tasks no overview has answered for yet (all of them after `forget`).
     * @param {number[]} taskIds
     */
    async load(taskIds) {
      const ids = [...new Set(taskIds)].filter((id) => !covered.has(id)).slice(0, 200);
      if (!ids.length) return;
      const mine = generation;
      try {
        const r = await ctx.session.call('presence.overview', { taskIds: ids });
        if (mine !== generation) return;
        for (const id of ids) { covered.add(id); here.delete(id); }
        for (const t of r.tasks) set(t.taskId, others(t.userIds));
        onChange(ids);
        const unnamed = r.tasks.filter((t) => [...(here.get(t.taskId) ?? [])].some((u) => !names.has(u))).slice(0, 10);
        await Promise.all(unnamed.map(async (t) => {
          const list = await ctx.session.call('presence.list', { taskId: t.taskId });
          for (const m of list.members) names.set(m.userId, m.username);
        }).map((p) => p.catch(() => {})));
        if (unnamed.length && mine === generation) onChange(unnamed.map((t) => t.taskId));
      } catch { /* the marks are a nicety */ }
    },
    /** After a reconnection: who came and went meanwhile was never sent, so ask again. */
    forget() {
      const marked = [...here.keys()];
      generation++; covered.clear(); here.clear();
      onChange(marked);
    },
    /** @param {import('../../client/faros.js').PresenceNotification} p */
    apply(p) {
      const users = new Set(here.get(p.taskId));
      if (p.type === 'presence.left') users.delete(p.userId);
      else if (p.member.userId !== ctx.session.user?.id) {
        names.set(p.member.userId, p.member.username);
        users.add(p.member.userId);
      }
      set(p.taskId, users);
      onChange([p.taskId]);
    },
  };
}
