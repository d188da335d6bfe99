// Who a task is shared with: the side panel (owner and editors see the list) and the share
// dialog (owner: find a user, pick a role, change roles, revoke). A sharee can leave.
import { h, replace, flash, errorText } from '../dom.js';
import { openDialog, confirmDialog } from '../ui.js';

export function sharesSection(ctx, task) {
  let shares = [];
  const listEl = h('ul', { class: 'plain-list', testid: 'shares' });
  const shareButton = h('button', { type: 'button', class: 'primary', testid: 'share-open', text: 'Share…' });
  const leaveButton = h('button', { type: 'button', class: 'danger', testid: 'share-leave', text: 'Leave this task' });
  shareButton.addEventListener('click', () => shareDialog());
  leaveButton.addEventListener('click', async () => {
    if (!(await confirmDialog('Leave this task? You will lose access to it.', 'Leave'))) return;
    try {
      await ctx.session.call('shares.revoke', { taskId: task.id, username: ctx.session.user.username });
      ctx.navigate('#/tasks');
    } catch (err) { ctx.notice(errorText(err)); }
  });

  function renderList(changed) {
    if (task.permission === 'view') {
      replace(listEl, h('li', { class: 'muted', text: `Shared with you by ${task.ownerUsername}; you can view.` }));
      return;
    }
    replace(listEl, h('li', { class: 'share-row' }, h('span', { class: 'who', text: task.ownerUsername }), h('span', { class: 'badge', text: 'owner' })),
      shares.map((s) => h('li', { class: 'share-row', 'data-user': s.userId, testid: 'share-row' },
        h('span', { class: 'who', testid: 'share-user', text: s.username }), h('span', { class: 'badge', testid: 'share-permission', text: s.permission }))));
    if (changed != null) flash(listEl.querySelector(`[data-user="${changed}"]`));
  }
  async function load(changed) {
    if (task.permission === 'view') { shares = []; renderList(); return; }
    try {
      ({ items: shares } = await ctx.session.call('shares.list', { taskId: task.id }));
    } catch (err) { shares = []; }
    renderList(changed);
    dialogRefresh?.();
  }

  let dialogRefresh = null;
  function shareDialog() {
    return openDialog(`Share “${task.title}”`, () => {
      const query = h('input', { type: 'search', testid: 'share-search', autocomplete: 'off', 'aria-label': 'Find a user by name', placeholder: 'Find a user…', 'aria-controls': 'share-suggestions' });
      const role = h('select', { testid: 'share-role', 'aria-label': 'Role' }, h('option', { value: 'view', text: 'Can view' }), h('option', { value: 'edit', text: 'Can edit' }));
      const suggestions = h('ul', { class: 'suggestions', id: 'share-suggestions', testid: 'share-suggestions', 'aria-label': 'Matching users' });
      const error = h('p', { class: 'form-error', role: 'alert', testid: 'share-error', hidden: true });
      const current = h('ul', { class: 'plain-list', testid: 'share-current' });
      const grant = async (username) => {
        error.hidden = true;
        try {
          await ctx.session.call('shares.create', { taskId: task.id, username, permission: role.value });
          query.value = '';
          replace(suggestions);
          await load();
          query.focus();
        } catch (err) { error.textContent = errorText(err); error.hidden = false; }
      };
      let timer = 0;
      let latest = 0;
      query.addEventListener('input', () => {
        clearTimeout(timer);
        timer = setTimeout(async () => {
          const text = query.value.trim();
          const mine = ++latest;
          if (!text) { replace(suggestions); return; }
          try {
            const { items } = await ctx.session.call('users.search', { query: text, limit: 8 });
            if (mine !== latest) return;
            const taken = new Set([task.ownerId, ...shares.map((s) => s.userId)]);
            replace(suggestions, items.filter((u) => !taken.has(u.id)).map((u) => h('li', null,
              h('button', { type: 'button', testid: 'share-suggestion', text: `Share with ${u.username}`, onclick: () => grant(u.username) }))));
          } catch (err) { error.textContent = errorText(err); error.hidden = false; }
        }, 150);
      });
      query.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') { e.preventDefault(); if (query.value.trim()) grant(query.value.trim()); }
        if (e.key === 'ArrowDown') { e.preventDefault(); /** @type {HTMLElement | null} */ (suggestions.querySelector('button'))?.focus(); }
      });
      const renderCurrent = () => replace(current, shares.length ? shares.map((s) => {
        const select = h('select', { testid: 'share-change', 'aria-label': `Role of ${s.username}` },
          h('option', { value: 'view', selected: s.permission === 'view', text: 'Can view' }),
          h('option', { value: 'edit', selected: s.permission === 'edit', text: 'Can edit' }));
        select.addEventListener('change', async () => {
          try { await ctx.session.call('shares.update', { taskId: task.id, username: s.username, permission: select.value }); await load(s.userId); }
          catch (err) { error.textContent = errorText(err); error.hidden = false; }
        });
        const revoke = h('button', { type: 'button', class: 'danger', testid: 'share-revoke', text: 'Revoke', 'aria-label': `Revoke access of ${s.username}` });
        revoke.addEventListener('click', async () => {
          try { await ctx.session.call('shares.revoke', { taskId: task.id, username: s.username }); await load(); }
          catch (err) { error.textContent = errorText(err); error.hidden = false; }
        });
        return h('li', { class: 'share-row', testid: 'share-current-row' }, h('span', { class: 'who', text: s.username }), select, revoke);
      }) : h('li', { class: 'muted', text: 'Not shared with anyone yet.' }));
      dialogRefresh = renderCurrent;
      renderCurrent();
      queueMicrotask(() => query.focus());
      return h('div', null, error,
        h('div', { class: 'row' }, h('label', { class: 'field' }, h('span', { text: 'User' }), query), h('label', { class: 'field' }, h('span', { text: 'Role' }), role)),
        suggestions, h('h3', { text: 'People with access' }), current);
    }, 'share-dialog').finally(() => { dialogRefresh = null; });
  }

  const el = h('section', { class: 'panel', 'aria-labelledby': 'shares-h' }, h('h2', { id: 'shares-h', text: 'Sharing' }), listEl,
    h('div', { class: 'actions' }, shareButton, leaveButton));
  return {
    el, load,
    setTask(t) {
      task = t;
      shareButton.hidden = t.permission !== 'owner';
      leaveButton.hidden = t.permission === 'owner';
    },
    apply(ev) { if (ev.type.startsWith('share.')) load(ev.data.userId); },
  };
}
