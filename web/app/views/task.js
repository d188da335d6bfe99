// The task page: every field and the tags, comments, attachments, sharing and the activity
// timeline, all live on the task's own topic.
import { h, replace, field, flash, formatTime, errorText } from '../dom.js';
import { confirmDialog } from '../ui.js';
import { commentsSection } from './comments.js';
import { filesSection } from './files.js';
import { sharesSection } from './share.js';
import { isOverdue } from './tasks.js';
import { presenceBar, taskPresence, isTyping } from './presence.js';

const ACTIONS = {
  'task.created': 'created the task', 'task.updated': 'changed', 'task.deleted': 'deleted the task',
  'share.created': 'shared it with', 'share.updated': 'changed a share', 'share.revoked': 'removed access of',
  'comment.created': 'commented', 'comment.updated': 'edited a comment', 'comment.deleted': 'deleted a comment',
  'file.uploaded': 'attached', 'file.deleted': 'removed the attachment',
};

function describe(a) {
  const d = a.details ?? {};
  let what = ACTIONS[a.action] ?? a.action;
  if (a.action === 'task.updated') what += ` ${Object.keys(d).join(', ')}`;
  if (a.action === 'share.updated' && d.permission?.old) what = `changed a share from ${d.permission.old} to ${d.permission.new}`;
  else if (a.action.startsWith('share.') && d.username) what += ` ${d.username}${typeof d.permission === 'string' ? ` (${d.permission})` : ''}`;
  if (a.action.startsWith('file.') && typeof d.filename === 'string') what += ` ${d.filename}`;
  if (a.action === 'comment.created' && typeof d.content === 'string') what += `: “${d.content.length > 60 ? `${d.content.slice(0, 60)}…` : d.content}”`;
  return `${a.actorUsername ?? 'someone'} ${what}`;
}

export function taskPage(ctx, id) {
  let task = null;
  const el = h('section', { testid: 'task-page' }, h('p', { class: 'loading', text: 'Loading task…' }));

  // Details form
  const title = h('input', { type: 'text', required: true, maxlength: 200, testid: 'task-edit-title' });
  const description = h('textarea', { maxlength: 2000, testid: 'task-edit-description' });
  const priority = h('select', { testid: 'task-edit-priority' }, ['low', 'medium', 'high'].map((p) => h('option', { value: p, text: p })));
  const due = h('input', { type: 'date', testid: 'task-edit-due' });
  const completed = h('input', { type: 'checkbox', testid: 'task-edit-completed' });
  const heading = h('h1', { testid: 'task-heading' });
  const ownerLine = h('p', { class: 'muted', testid: 'task-owner' });
  const tagsEl = h('div', { class: 'tags', testid: 'task-tags' });
  const tagInput = h('input', { type: 'text', testid: 'task-add-tag', placeholder: 'new tag', 'aria-label': 'Add a tag', maxlength: 50 });
  const tagForm = h('form', { class: 'actions' }, tagInput, h('button', { type: 'submit', testid: 'task-add-tag-submit', text: 'Add tag' }));
  const saveBtn = h('button', { type: 'submit', class: 'primary', testid: 'task-save', text: 'Save changes' });
  const deleteBtn = h('button', { type: 'button', class: 'danger', testid: 'task-delete', text: 'Delete task' });
  const formError = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const fieldsBox = {
    title: field('Title', title), description: field('Description', description), priority: field('Priority', priority),
    dueDate: field('Due date', due), completed: h('label', { class: 'check' }, completed, 'Done'),
  };
  const form = h('form', { testid: 'task-form' }, formError, fieldsBox.title, fieldsBox.description,
    h('div', { class: 'row' }, fieldsBox.priority, fieldsBox.dueDate), fieldsBox.completed,
    h('div', { class: 'actions' }, saveBtn, deleteBtn));
  const dirty = new Set();
  for (const [name, control] of /** @type {[string, HTMLElement][]} */ ([['title', title], ['description', description], ['priority', priority], ['dueDate', due], ['completed', completed]])) {
    control.addEventListener('input', () => dirty.add(name));
    control.addEventListener('change', () => dirty.add(name));
  }

  const comments = commentsSection(ctx, { id });
  const files = filesSection(ctx, { id });
  const shares = sharesSection(ctx, { id });
  const timeline = h('ol', { class: 'plain-list timeline', testid: 'timeline' });
  // Who else has the page open: avatars under the heading, "typing…" under the comments.
  const bar = presenceBar(ctx);
  const presence = taskPresence(ctx, id, (others) => {
    bar.show(others);
    comments.showTyping(others.filter(isTyping).map((m) => m.username));
  });

  function fill(t, changed) {
    task = t;
    heading.textContent = t.title;
    ownerLine.textContent = t.ownerId === ctx.session.user?.id ? `Your task · created ${formatTime(t.createdAt)}`
      : `${t.ownerUsername}'s task · you can ${t.permission}`;
    const set = (name, apply) => {
      // Never overwrite what the user is typing; show everything else live.
      if (dirty.has(name) && !changed) return;
      if (changed && !(name in changed)) return;
      if (changed && dirty.has(name)) return;
      apply();
      if (changed) flash(fieldsBox[name]);
    };
    set('title', () => { title.value = t.title; });
    set('description', () => { description.value = t.description ?? ''; });
    set('priority', () => { priority.value = t.priority; });
    set('dueDate', () => { due.value = t.dueDate ?? ''; });
    set('completed', () => { completed.checked = t.completed; });
    replace(tagsEl, t.tags.length ? t.tags.map((tag) => h('span', { class: 'tag', testid: 'task-tag' }, tag,
      t.permission === 'view' ? null : h('button', { type: 'button', 'aria-label': `Remove tag ${tag}`, testid: 'task-remove-tag', text: '×',
        onclick: () => ctx.session.call('tasks.removeTag', { id: t.id, tag }).then((nt) => fill(nt)).catch((err) => ctx.notice(errorText(err))) })))
      : h('span', { class: 'muted', text: 'No tags' }));
    if (changed && 'tags' in changed) flash(tagsEl);
    const readOnly = t.permission === 'view';
    for (const c of [title, description, priority, due, completed, tagInput]) /** @type {any} */ (c).disabled = readOnly;
    saveBtn.hidden = readOnly;
    tagForm.hidden = readOnly;
    deleteBtn.hidden = t.permission !== 'owner';
    heading.classList.toggle('overdue', isOverdue(t));
    comments.setTask(t); files.setTask(t); shares.setTask(t);
    ctx.setTitle(t.title);
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    formError.hidden = true;
    const params = { id };
    if (title.value !== task.title) params.title = title.value;
    if ((description.value || null) !== task.description) params.description = description.value || null;
    if (priority.value !== task.priority) params.priority = priority.value;
    if ((due.value || null) !== task.dueDate) params.dueDate = due.value || null;
    if (completed.checked !== task.completed) params.completed = completed.checked;
    try {
      const t = await ctx.session.call('tasks.update', params);
      dirty.clear();
      fill(t);
      ctx.notice('Saved.');
    } catch (err) { formError.textContent = errorText(err); formError.hidden = false; }
  });
  tagForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const tags = tagInput.value.split(',').map((t) => t.trim()).filter(Boolean);
    if (!tags.length) return;
    try {
      fill(await ctx.session.call('tasks.addTags', { id, tags }));
      tagInput.value = '';
    } catch (err) { ctx.notice(errorText(err)); }
  });
  deleteBtn.addEventListener('click', async () => {
    if (!(await confirmDialog(`Delete “${task.title}” with its comments and files?`, 'Delete'))) return;
    try {
      await ctx.session.call('tasks.delete', { id });
      ctx.navigate('#/tasks');
    } catch (err) { ctx.notice(errorText(err)); }
  });

  let timelineTimer = 0;
  async function loadTimeline(highlightNewest) {
    const page = await ctx.session.call('activity.taskTimeline', { taskId: id, limit: 100 });
    let items = page.items;
    if (page.total > items.length) items = (await ctx.session.call('activity.taskTimeline', { taskId: id, limit: 100, offset: page.total - 100 })).items;
    replace(timeline, items.map((a) => h('li', { testid: 'timeline-entry' }, h('time', { datetime: a.createdAt, text: formatTime(a.createdAt) }), describe(a))));
    if (highlightNewest) flash(timeline.lastElementChild);
  }

  async function load() {
    try {
      const t = await ctx.session.call('tasks.get', { id });
      replace(el,
        h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/tasks', text: '← All tasks' })),
        heading, ownerLine, bar.el,
        h('div', { class: 'task-page' },
          h('div', null,
            h('section', { class: 'panel', 'aria-labelledby': 'details-h' }, h('h2', { id: 'details-h', text: 'Details' }), form,
              h('h3', { text: 'Tags' }), tagsEl, tagForm),
            comments.el, files.el),
          h('div', null, shares.el,
            h('section', { class: 'panel', 'aria-labelledby': 'activity-h' }, h('h2', { id: 'activity-h', text: 'Activity' }), timeline))));
      fill(t);
      // Entered once the task is known to be visible; presence.list again on a reload.
      await Promise.all([comments.load(), files.load(), shares.load(), loadTimeline(false), presence.enter()]);
    } catch (err) {
      if (err?.code === -32004) {
        replace(el, h('div', { class: 'panel', testid: 'task-missing' }, h('h1', { text: 'Task not found' }),
          h('p', { text: 'It does not exist, or it is not shared with you.' }), h('a', { href: '#/tasks', text: 'Back to your tasks' })));
      } else {
        replace(el, h('p', { class: 'form-error', text: errorText(err) }));
      }
    }
  }
  load();

  return {
    el,
    title: 'Task',
    taskId: id,
    applyEvents(events) {
      let timelineChanged = false;
      for (const ev of events) {
        const me = ctx.session.user;
        if (ev.type === 'share.revoked' && ev.data.taskId === id && ev.data.userId === me?.id) {
          const by = ev.actor?.id === me?.id ? 'You left' : `${ev.actor?.username ?? 'The owner'} stopped sharing`;
          ctx.notice(`${by} “${task?.title ?? 'this task'}”; it is no longer available to you.`);
          ctx.navigate('#/tasks');
          return;
        }
        if (ev.taskId !== id) continue;
        timelineChanged = true;
        if (ev.type === 'task.deleted') {
          ctx.notice(`“${task?.title ?? 'This task'}” was deleted by ${ev.actor?.username ?? 'someone'}.`);
          ctx.navigate('#/tasks');
          return;
        }
        if (ev.type === 'task.updated' || ev.type === 'task.created') {
          const { changes, ...t } = ev.data;
          fill(t, changes ?? {});
        } else if (ev.type.startsWith('comment.')) comments.apply(ev);
        else if (ev.type.startsWith('file.')) files.apply(ev);
        else if (ev.type.startsWith('share.')) {
          shares.apply(ev);
          if (ev.data.userId === ctx.session.user?.id) ctx.session.call('tasks.get', { id }).then((t) => fill(t, { permission: 1 })).catch(() => {});
        }
      }
      if (timelineChanged) {
        clearTimeout(timelineTimer);
        timelineTimer = setTimeout(() => loadTimeline(true).catch(() => {}), 100);
      }
    },
    /** @param {import('../../client/faros.js').PresenceNotification} change */
    applyPresence(change) { presence.apply(change); },
    presenceResync() { presence.reload(); },
    resync() { load(); },
    dispose() {
      clearTimeout(timelineTimer);
      presence.leave();
      comments.dispose();
    },
  };
}
