// The task list ("My tasks" and "Shared with me"): stats header, filters, search, sort, paging,
// bulk complete and delete, live.
import { h, replace, field, flash, formatDate, todayUTC, errorText } from '../dom.js';
import { confirmDialog } from '../ui.js';
import { verifyNotice } from './auth.js';
import { listPresence } from './presence.js';

const PAGE_SIZE = 50;
const SORTS = [['createdAt', 'Created'], ['updatedAt', 'Updated'], ['dueDate', 'Due date'], ['priority', 'Priority'], ['title', 'Title']];

/** Filters live in the hash (#/tasks?status=open&page=2) so Back and reload keep them. */
function readFilters(query) {
  return {
    scope: query.get('scope') || 'all',
    status: query.get('status') || 'any',
    priority: query.get('priority') || '',
    tags: query.get('tags') || '',
    dueAfter: query.get('dueAfter') || '',
    dueBefore: query.get('dueBefore') || '',
    overdue: query.get('overdue') === '1',
    search: query.get('q') || '',
    sortBy: query.get('sort') || 'createdAt',
    sortOrder: query.get('order') || 'desc',
    page: Math.max(1, Number(query.get('page')) || 1),
  };
}

function writeFilters(f) {
  const q = new URLSearchParams();
  if (f.scope !== 'all') q.set('scope', f.scope);
  if (f.status !== 'any') q.set('status', f.status);
  for (const [k, v] of [['priority', f.priority], ['tags', f.tags], ['dueAfter', f.dueAfter], ['dueBefore', f.dueBefore], ['q', f.search]]) if (v) q.set(k, v);
  if (f.overdue) q.set('overdue', '1');
  if (f.sortBy !== 'createdAt') q.set('sort', f.sortBy);
  if (f.sortOrder !== 'desc') q.set('order', f.sortOrder);
  if (f.page > 1) q.set('page', String(f.page));
  const s = q.toString();
  return s ? `?${s}` : '';
}

function listParams(f) {
  const p = { scope: f.scope, sortBy: f.sortBy, sortOrder: f.sortOrder, limit: PAGE_SIZE, offset: (f.page - 1) * PAGE_SIZE };
  if (f.status !== 'any') p.completed = f.status === 'done';
  if (f.priority) p.priority = f.priority;
  const tags = f.tags.split(',').map((t) => t.trim()).filter(Boolean);
  if (tags.length) p.tags = tags;
  if (f.dueAfter) p.dueAfter = f.dueAfter;
  if (f.dueBefore) p.dueBefore = f.dueBefore;
  if (f.overdue) p.overdue = true;
  if (f.search.trim()) p.search = f.search.trim();
  return p;
}

export function isOverdue(task) {
  return !task.completed && task.dueDate != null && task.dueDate < todayUTC();
}

function statsHeader(stats) {
  const stat = (name, value, cls, testid) => h('div', { class: `stat ${cls ?? ''}`, testid },
    h('span', { class: 'value', text: String(value) }), h('span', { class: 'name', text: name }));
  return [
    stat('Total', stats.total, '', 'stat-total'), stat('Open', stats.incomplete, '', 'stat-open'),
    stat('Done', stats.completed, '', 'stat-done'), stat('Overdue', stats.overdue, 'overdue', 'stat-overdue'),
    stat('High priority', stats.byPriority.high, '', 'stat-high'), stat('Shared by me', stats.tasksShared, '', 'stat-shared'),
  ];
}

export function taskRow(ctx, task, selection, onToggleSelect) {
  const me = ctx.session.user;
  const done = h('input', { type: 'checkbox', checked: task.completed, class: 'done-toggle', testid: 'task-done', disabled: task.permission === 'view',
    'aria-label': `Mark “${task.title}” ${task.completed ? 'not done' : 'done'}` });
  done.addEventListener('change', async () => {
    try {
      await ctx.session.call('tasks.update', { id: task.id, completed: done.checked });
    } catch (err) {
      done.checked = !done.checked;
      ctx.notice(errorText(err));
    }
  });
  const select = selection ? h('input', { type: 'checkbox', checked: selection.has(task.id), testid: 'task-select', 'aria-label': `Select “${task.title}”` }) : null;
  select?.addEventListener('change', () => onToggleSelect(task.id, select.checked));
  return h('li', { class: `task-item ${task.completed ? 'done' : ''}`, 'data-id': task.id, testid: 'task-row' },
    select, done,
    h('div', { class: 'main' },
      h('a', { class: 'title', href: `#/tasks/${task.id}`, testid: 'task-title', text: task.title }),
      h('div', { class: 'meta' },
        h('span', { class: 'presence-slot' }),
        h('span', { class: `badge ${task.priority}`, text: task.priority }),
        task.dueDate ? h('span', { text: `Due ${formatDate(task.dueDate)}` }) : null,
        isOverdue(task) ? h('span', { class: 'badge overdue', text: 'overdue' }) : null,
        task.ownerId !== me?.id ? h('span', { text: `by ${task.ownerUsername} · you can ${task.permission}` }) : null,
        task.shareCount > 0 && task.ownerId === me?.id ? h('span', { text: `shared with ${task.shareCount}` }) : null,
        h('span', { class: 'tags' }, task.tags.map((t) => h('span', { class: 'tag', text: t }))))));
}

export function tasksPage(ctx, { shared = false } = {}) {
  const f = readFilters(ctx.query);
  const selection = new Set();
  let tasks = [];
  let total = 0;
  const statsEl = h('div', { class: 'stats', testid: 'stats' });
  const listEl = h('ul', { class: 'task-list', testid: 'task-list' });
  const pagerText = h('span', { class: 'muted', testid: 'pager-text' });
  const prev = h('button', { type: 'button', testid: 'page-prev', text: '← Previous' });
  const next = h('button', { type: 'button', testid: 'page-next', text: 'Next →' });
  const pager = h('div', { class: 'pager' }, pagerText, prev, next);
  const go = (changes) => ctx.navigate(`#/${shared ? 'shared' : 'tasks'}${writeFilters({ ...f, ...changes })}`);
  prev.addEventListener('click', () => go({ page: f.page - 1 }));
  next.addEventListener('click', () => go({ page: f.page + 1 }));

  // Bulk actions
  const bulkCount = h('span', { class: 'muted', testid: 'bulk-count' });
  const selectAll = h('input', { type: 'checkbox', testid: 'select-all', 'aria-label': 'Select every task on this page' });
  const bulkDone = h('button', { type: 'button', testid: 'bulk-complete', text: 'Complete selected' });
  const bulkDelete = h('button', { type: 'button', class: 'danger', testid: 'bulk-delete', text: 'Delete selected' });
  const updateBulk = () => {
    bulkCount.textContent = selection.size ? `${selection.size} selected` : '';
    bulkDone.disabled = bulkDelete.disabled = selection.size === 0;
    selectAll.checked = tasks.length > 0 && tasks.every((t) => selection.has(t.id));
  };
  const toggle = (id, on) => { if (on) selection.add(id); else selection.delete(id); updateBulk(); };
  selectAll.addEventListener('change', () => {
    const on = selectAll.checked;
    for (const t of tasks) if (on) selection.add(t.id); else selection.delete(t.id);
    for (const box of listEl.querySelectorAll('[data-testid=task-select]')) /** @type {HTMLInputElement} */ (box).checked = on;
    updateBulk();
  });
  bulkDone.addEventListener('click', async () => {
    try {
      await ctx.session.call('tasks.bulkUpdate', { ids: [...selection], changes: { completed: true } });
      selection.clear();
      refresh();
    } catch (err) { ctx.notice(errorText(err)); }
  });
  bulkDelete.addEventListener('click', async () => {
    const n = selection.size;
    if (!(await confirmDialog(`Delete ${n} task${n === 1 ? '' : 's'}? This cannot be undone.`, 'Delete'))) return;
    const results = await Promise.allSettled([...selection].map((id) => ctx.session.call('tasks.delete', { id })));
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length) ctx.notice(`${failed.length} could not be deleted: ${errorText(/** @type {any} */ (failed[0]).reason)}`);
    selection.clear();
    refresh();
  });

  // Marks on the tasks someone else has open now.
  const presence = listPresence(ctx, (taskIds) => { for (const id of taskIds) mark(id); });
  /** @param {number} id */
  function mark(id) {
    const slot = listEl.querySelector(`[data-id="${id}"] .presence-slot`);
    if (!slot) return;
    const title = presence.title(id);
    replace(slot, title ? h('span', { class: 'presence-mark', testid: 'task-presence', title, text: title }) : null);
  }

  function renderList(changedIds = new Set()) {
    if (!tasks.length) {
      replace(listEl, h('li', { class: 'empty', testid: 'empty', text: shared ? 'Nothing is shared with you yet.' : 'No tasks match. Add one above.' }));
    } else {
      replace(listEl, tasks.map((t) => taskRow(ctx, t, shared ? null : selection, toggle)));
      for (const t of tasks) mark(t.id);
      for (const id of changedIds) flash(listEl.querySelector(`[data-id="${id}"]`));
    }
    const first = total ? (f.page - 1) * PAGE_SIZE + 1 : 0;
    pagerText.textContent = `${first}–${(f.page - 1) * PAGE_SIZE + tasks.length} of ${total}`;
    pager.hidden = total === 0 && f.page === 1;
    prev.disabled = f.page <= 1;
    next.disabled = f.page * PAGE_SIZE >= total;
    for (const id of [...selection]) if (!tasks.some((t) => t.id === id)) selection.delete(id);
    updateBulk();
  }

  // One fetch at a time; events arriving meanwhile mark the view dirty for one more.
  /** @type {Map<number, any>} the newest copy of each task an event brought */
  const fresher = new Map();
  let inFlight = null;
  let dirty = false;
  async function refresh(changedIds = new Set()) {
    if (inFlight) { dirty = true; return inFlight; }
    const before = new Map(tasks.map((t) => [t.id, t.updatedAt]));
    inFlight = (async () => {
      try {
        const [page, stats] = await Promise.all([
          shared ? ctx.session.call('shares.sharedWithMe', { limit: PAGE_SIZE, offset: (f.page - 1) * PAGE_SIZE })
            : ctx.session.call('tasks.list', listParams(f)),
          shared ? null : ctx.session.call('tasks.stats', {}),
        ]);
        const initial = before.size === 0 && !loaded;
        // A fetch that started before an event may carry an older copy of a task: keep the newer.
        tasks = page.items.map((t) => (fresher.get(t.id)?.updatedAt ?? '') > t.updatedAt ? fresher.get(t.id) : t);
        total = page.total;
        if (stats) replace(statsEl, statsHeader(stats));
        if (!initial) for (const t of tasks) if (before.get(t.id) !== t.updatedAt) changedIds.add(t.id);
        loaded = true;
        renderList(changedIds);
        presence.learn(tasks);
        presence.load(tasks.map((t) => t.id)); // only the ids no overview has answered for yet
      } catch (err) {
        ctx.notice(errorText(err));
      } finally {
        inFlight = null;
      }
      if (dirty) { dirty = false; await refresh(); }
    })();
    return inFlight;
  }
  let loaded = false;

  // New task
  const newTitle = h('input', { type: 'text', name: 'title', required: true, maxlength: 200, placeholder: 'What needs doing?', testid: 'new-task-title', 'aria-label': 'New task title' });
  const newPriority = h('select', { testid: 'new-task-priority', 'aria-label': 'Priority' },
    ['low', 'medium', 'high'].map((p) => h('option', { value: p, selected: p === 'medium', text: p })));
  const newDue = h('input', { type: 'date', testid: 'new-task-due', 'aria-label': 'Due date' });
  const newTags = h('input', { type: 'text', placeholder: 'tags, comma separated', testid: 'new-task-tags', 'aria-label': 'Tags' });
  const newForm = h('form', { class: 'new-task', testid: 'new-task-form' }, newTitle, newPriority, newDue, newTags,
    h('button', { type: 'submit', class: 'primary', testid: 'new-task-submit', text: 'Add task' }));
  newForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const params = { title: newTitle.value, priority: newPriority.value };
    if (newDue.value) params.dueDate = newDue.value;
    const tags = newTags.value.split(',').map((t) => t.trim()).filter(Boolean);
    if (tags.length) params.tags = tags;
    try {
      const task = await ctx.session.call('tasks.create', params);
      newTitle.value = newTags.value = newDue.value = '';
      await refresh(new Set([task.id]));
      newTitle.focus();
    } catch (err) { ctx.notice(errorText(err)); }
  });

  // Filters
  const filters = h('form', { class: 'toolbar', role: 'search', testid: 'filters' });
  const search = h('input', { type: 'search', name: 'q', value: f.search, testid: 'filter-search', placeholder: 'Title or description' });
  const scope = h('select', { name: 'scope', testid: 'filter-scope' },
    [['all', 'All I can see'], ['owned', 'Mine'], ['shared', 'Shared with me']].map(([v, t]) => h('option', { value: v, selected: f.scope === v, text: t })));
  const status = h('select', { name: 'status', testid: 'filter-status' },
    [['any', 'Any'], ['open', 'Open'], ['done', 'Done']].map(([v, t]) => h('option', { value: v, selected: f.status === v, text: t })));
  const priority = h('select', { name: 'priority', testid: 'filter-priority' },
    [['', 'Any'], ['low', 'Low'], ['medium', 'Medium'], ['high', 'High']].map(([v, t]) => h('option', { value: v, selected: f.priority === v, text: t })));
  const tagsIn = h('input', { type: 'text', name: 'tags', value: f.tags, testid: 'filter-tags', placeholder: 'work, home' });
  const dueAfter = h('input', { type: 'date', name: 'dueAfter', value: f.dueAfter, testid: 'filter-due-after' });
  const dueBefore = h('input', { type: 'date', name: 'dueBefore', value: f.dueBefore, testid: 'filter-due-before' });
  const overdue = h('input', { type: 'checkbox', name: 'overdue', checked: f.overdue, testid: 'filter-overdue' });
  const sortBy = h('select', { name: 'sort', testid: 'sort-by' }, SORTS.map(([v, t]) => h('option', { value: v, selected: f.sortBy === v, text: t })));
  const sortOrder = h('select', { name: 'order', testid: 'sort-order' },
    [['desc', 'Descending'], ['asc', 'Ascending']].map(([v, t]) => h('option', { value: v, selected: f.sortOrder === v, text: t })));
  filters.append(field('Search', search), field('Show', scope), field('Status', status), field('Priority', priority),
    field('Tags', tagsIn), field('Due after', dueAfter), field('Due before', dueBefore),
    h('label', { class: 'check' }, overdue, 'Overdue only'), field('Sort by', sortBy), field('Order', sortOrder),
    h('div', { class: 'actions' }, h('button', { type: 'submit', testid: 'filter-apply', text: 'Apply' }),
      h('button', { type: 'button', class: 'link', testid: 'filter-reset', text: 'Reset', onclick: () => ctx.navigate('#/tasks') })));
  const apply = () => go({ search: search.value, scope: scope.value, status: status.value, priority: priority.value, tags: tagsIn.value,
    dueAfter: dueAfter.value, dueBefore: dueBefore.value, overdue: overdue.checked, sortBy: sortBy.value, sortOrder: sortOrder.value, page: 1 });
  filters.addEventListener('submit', (e) => { e.preventDefault(); apply(); });
  for (const control of [scope, status, priority, overdue, sortBy, sortOrder, dueAfter, dueBefore]) control.addEventListener('change', apply);

  const el = h('section', null,
    h('h1', { text: shared ? 'Shared with me' : 'My tasks' }),
    shared ? null : verifyNotice(ctx),
    shared ? null : statsEl,
    shared ? null : h('div', { class: 'panel' }, h('h2', { text: 'New task' }), newForm),
    shared ? null : h('details', { class: 'panel', open: writeFilters({ ...f, page: 1, sortBy: 'createdAt', sortOrder: 'desc' }) !== '' },
      h('summary', { text: 'Filters, search and sort' }), filters),
    h('div', { class: 'panel' },
      shared ? null : h('div', { class: 'bulk' }, h('label', { class: 'check' }, selectAll, 'All'), bulkDone, bulkDelete, bulkCount),
      listEl,
      pager));
  refresh();

  return {
    el,
    title: shared ? 'Shared with me' : 'My tasks',
    /** @param {any[]} events one animation frame's worth */
    applyEvents(events) {
      const changed = new Set();
      for (const ev of events) {
        if (ev.type === 'task.updated') {
          const i = tasks.findIndex((t) => t.id === ev.data.id);
          if (i >= 0) {
            const { changes, ...task } = ev.data;
            tasks[i] = task;
            fresher.set(task.id, task);
            changed.add(task.id);
          }
        } else if (ev.type === 'task.created') changed.add(ev.data.id);
        else if (ev.type === 'task.deleted' && ev.actor?.id !== ctx.session.user?.id) {
          const gone = tasks.find((t) => t.id === ev.data.id);
          if (gone) ctx.notice(`${ev.actor?.username ?? 'Someone'} deleted “${gone.title}”.`);
        }
      }
      if (changed.size) renderList(changed);
      refresh(changed);
    },
    /** @param {import('../../client/faros.js').PresenceNotification} change */
    applyPresence(change) { presence.apply(change); },
    presenceResync() { presence.forget(); presence.load(tasks.map((t) => t.id)); },
    resync() { refresh(); },
  };
}
