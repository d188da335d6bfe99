// The comments of one task: add, edit (author), delete (author or task owner), live.
import { h, replace, flash, formatTime, errorText } from '../dom.js';
import { confirmDialog } from '../ui.js';
import { typingText } from './presence.js';

// The server forgets a typing state after 10 s unless it is sent again: while the user keeps
// typing it is sent again this often, well inside that, and never more often.
const TYPING_EVERY_MS = 3000;

export function commentsSection(ctx, task) {
  /** @type {Map<number, any>} */
  const comments = new Map();
  const listEl = h('ol', { class: 'plain-list', testid: 'comments' });
  const count = h('span', { class: 'muted' });

  const canWrite = () => true; // any viewer may comment; the server answers otherwise
  const item = (c) => {
    const me = ctx.session.user;
    const mine = c.authorId != null && c.authorId === me?.id;
    const body = h('p', { class: 'body', testid: 'comment-body', text: c.content });
    const edit = mine ? h('button', { type: 'button', class: 'link', testid: 'comment-edit', text: 'Edit', 'aria-label': 'Edit comment' }) : null;
    const del = mine || task.permission === 'owner'
      ? h('button', { type: 'button', class: 'link', testid: 'comment-delete', text: 'Delete', 'aria-label': 'Delete comment' }) : null;
    const li = h('li', { class: 'comment', 'data-id': c.id, testid: 'comment' },
      h('div', { class: 'head' }, h('strong', { testid: 'comment-author', text: c.authorUsername ?? 'deleted user' }),
        h('time', { datetime: c.createdAt, text: formatTime(c.createdAt) }),
        c.updatedAt !== c.createdAt ? h('span', { text: '(edited)' }) : null),
      body, h('div', { class: 'actions' }, edit, del));
    edit?.addEventListener('click', () => {
      const area = h('textarea', { testid: 'comment-edit-input', 'aria-label': 'Edit comment', maxlength: 2000 });
      area.value = c.content;
      const save = h('button', { type: 'submit', class: 'primary', testid: 'comment-save', text: 'Save' });
      const form = h('form', null, area, h('div', { class: 'actions' }, save,
        h('button', { type: 'button', text: 'Cancel', onclick: () => li.replaceWith(item(comments.get(c.id) ?? c)) })));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        try {
          const updated = await ctx.session.call('comments.update', { id: c.id, content: area.value });
          put(updated, false);
        } catch (err) { ctx.notice(errorText(err)); }
      });
      body.replaceWith(form);
      area.focus();
    });
    del?.addEventListener('click', async () => {
      if (!(await confirmDialog('Delete this comment?', 'Delete'))) return;
      try {
        await ctx.session.call('comments.delete', { id: c.id });
        remove(c.id);
      } catch (err) { ctx.notice(errorText(err)); }
    });
    return li;
  };

  const updateCount = () => { count.textContent = `(${comments.size})`; };
  function put(c, highlight) {
    const old = listEl.querySelector(`[data-id="${c.id}"]`);
    comments.set(c.id, c);
    const li = item(c);
    if (old) old.replaceWith(li);
    else {
      const after = [...listEl.children].find((el) => Number(/** @type {HTMLElement} */ (el).dataset.id) > c.id);
      listEl.insertBefore(li, after ?? null);
      listEl.querySelector('.empty')?.remove();
    }
    if (highlight) flash(li);
    updateCount();
  }
  function remove(id) {
    comments.delete(id);
    deleted.add(id);
    listEl.querySelector(`[data-id="${id}"]`)?.remove();
    if (!comments.size && !listEl.querySelector('.empty')) listEl.append(h('li', { class: 'empty', text: 'No comments yet.' }));
    updateCount();
  }

  // Events that arrive while the list loads are newer than what the load returns: they win.
  const deleted = new Set();
  async function load() {
    comments.clear();
    deleted.clear();
    replace(listEl);
    const all = [];
    for (let offset = 0; ; offset += 100) {
      const page = await ctx.session.call('comments.list', { taskId: task.id, limit: 100, offset });
      all.push(...page.items);
      if (all.length >= page.total || page.items.length === 0) break;
    }
    for (const c of all) if (!comments.has(c.id) && !deleted.has(c.id)) put(c, false);
    if (!comments.size) listEl.append(h('li', { class: 'empty', text: 'No comments yet.' }));
  }

  const input = h('textarea', { testid: 'comment-input', maxlength: 2000, required: true, 'aria-label': 'New comment', placeholder: 'Write a comment…' });
  const form = h('form', { testid: 'comment-form' }, input,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', testid: 'comment-submit', text: 'Comment' })));
  // Typing: {typing: true} in this session's presence state while the box has text and keeps
  // changing; {} once it is sent, emptied or left.
  let typingSentAt = 0; // 0: not typing
  function typing() {
    if (!input.value.trim()) return stopTyping();
    const now = Date.now();
    if (typingSentAt && now - typingSentAt < TYPING_EVERY_MS) return;
    typingSentAt = now;
    ctx.session.setPresenceState(task.id, { typing: true });
  }
  function stopTyping() {
    if (!typingSentAt) return;
    typingSentAt = 0;
    ctx.session.setPresenceState(task.id, {});
  }
  input.addEventListener('input', typing);
  input.addEventListener('blur', stopTyping);
  const typingEl = h('p', { class: 'typing-indicator', testid: 'typing-indicator', 'aria-live': 'polite', hidden: true });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!canWrite()) return;
    try {
      const c = await ctx.session.call('comments.create', { taskId: task.id, content: input.value });
      input.value = '';
      stopTyping();
      put(c, false);
    } catch (err) { ctx.notice(errorText(err)); }
  });
  // Ctrl/Cmd+Enter sends, as in most comment boxes.
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) form.requestSubmit(); });

  const el = h('section', { class: 'panel', 'aria-labelledby': 'comments-h' },
    h('h2', { id: 'comments-h' }, 'Comments ', count), listEl, typingEl, form);
  return {
    el, load,
    setTask(t) { task = t; },
    /** @param {string[]} names the others typing now */
    showTyping(names) {
      typingEl.textContent = typingText(names);
      typingEl.hidden = names.length === 0;
    },
    dispose() { typingSentAt = 0; }, // leaving the task drops the state with it
    apply(ev) {
      // A replayed event of a comment deleted since carries no text (the server keeps a comment's
      // text only while it is current); its comment.deleted follows, so there is nothing to show.
      if (ev.type === 'comment.created' || ev.type === 'comment.updated') {
        if (typeof ev.data?.content === 'string' && !deleted.has(ev.data.id)) put(ev.data, ev.actor?.id !== ctx.session.user?.id);
      } else if (ev.type === 'comment.deleted') remove(ev.data.id);
    },
  };
}
