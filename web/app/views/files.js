// Attachments of one task: upload with a progress bar (and cancel), download through a signed
// link from files.downloadUrl, delete; live.
import { h, replace, flash, formatBytes, formatTime, errorText } from '../dom.js';
import { confirmDialog } from '../ui.js';

export function filesSection(ctx, task) {
  const listEl = h('ul', { class: 'plain-list', testid: 'files' });
  /** @type {Map<number, any>} */
  const files = new Map();

  const item = (f) => {
    const me = ctx.session.user;
    const canDelete = task.permission === 'owner' || (task.permission === 'edit' && f.uploadedBy === me?.id);
    const download = h('button', { type: 'button', class: 'link', testid: 'file-download', text: 'Download', 'aria-label': `Download ${f.filename}` });
    download.addEventListener('click', async () => {
      try {
        const { url } = await ctx.session.call('files.downloadUrl', { id: f.id });
        const a = h('a', { href: url, download: f.filename, hidden: true });
        document.body.append(a);
        a.click();
        a.remove();
      } catch (err) { ctx.notice(errorText(err)); }
    });
    const del = canDelete ? h('button', { type: 'button', class: 'link', testid: 'file-delete', text: 'Delete', 'aria-label': `Delete ${f.filename}` }) : null;
    del?.addEventListener('click', async () => {
      if (!(await confirmDialog(`Delete “${f.filename}”?`, 'Delete'))) return;
      try {
        await ctx.session.call('files.delete', { id: f.id });
        remove(f.id);
      } catch (err) { ctx.notice(errorText(err)); }
    });
    return h('li', { class: 'file', 'data-id': f.id, testid: 'file' },
      h('span', { class: 'name', testid: 'file-name', text: f.filename }),
      h('span', { class: 'muted', text: formatBytes(f.size) }), download, del);
  };
  function put(f, highlight) {
    files.set(f.id, f);
    const li = item(f);
    const old = listEl.querySelector(`[data-id="${f.id}"]`);
    if (old) old.replaceWith(li); else listEl.append(li);
    listEl.querySelector('.empty')?.remove();
    if (highlight) flash(li);
  }
  function remove(id) {
    files.delete(id);
    deleted.add(id);
    listEl.querySelector(`[data-id="${id}"]`)?.remove();
    if (!files.size) listEl.append(h('li', { class: 'empty', text: 'No attachments.' }));
  }
  // Events that arrive while the list loads are newer than what the load returns: they win.
  const deleted = new Set();
  async function load() {
    files.clear();
    deleted.clear();
    replace(listEl);
    const { items } = await ctx.session.call('files.list', { taskId: task.id });
    for (const f of items) if (!files.has(f.id) && !deleted.has(f.id)) put(f, false);
    if (!files.size) listEl.append(h('li', { class: 'empty', text: 'No attachments.' }));
  }

  const picker = h('input', { type: 'file', testid: 'file-input', 'aria-label': 'Choose a file to attach' });
  const progress = /** @type {HTMLProgressElement} */ (h('progress', { max: 100, value: 0, testid: 'upload-progress', hidden: true, 'aria-label': 'Upload progress' }));
  const status = h('span', { class: 'muted', role: 'status', testid: 'upload-status' });
  const cancel = h('button', { type: 'button', testid: 'upload-cancel', text: 'Cancel', hidden: true });
  let controller = null;
  cancel.addEventListener('click', () => controller?.abort());
  picker.addEventListener('change', async () => {
    const file = picker.files?.[0];
    if (!file) return;
    controller = new AbortController();
    progress.value = 0;
    progress.hidden = cancel.hidden = false;
    status.textContent = `Uploading ${file.name}…`;
    try {
      const f = await ctx.session.upload(task.id, file, {
        signal: controller.signal,
        onProgress: (loaded, total) => {
          progress.value = total ? Math.round((loaded / total) * 100) : 0;
          status.textContent = `Uploading ${file.name}: ${formatBytes(loaded)} of ${formatBytes(total)}`;
        },
      });
      put(f, false);
      status.textContent = `Uploaded ${file.name}.`;
    } catch (err) {
      status.textContent = controller.signal.aborted ? 'Upload cancelled.' : `Upload failed: ${errorText(err)}`;
    } finally {
      progress.hidden = cancel.hidden = true;
      picker.value = '';
      controller = null;
    }
  });
  const uploader = h('div', { class: 'upload-row' }, h('label', { class: 'field' }, h('span', { text: 'Attach a file' }), picker), progress, h('div', { class: 'actions' }, status, cancel));

  const el = h('section', { class: 'panel', 'aria-labelledby': 'files-h' }, h('h2', { id: 'files-h', text: 'Attachments' }), listEl, uploader);
  return {
    el, load,
    setTask(t) { task = t; uploader.hidden = t.permission === 'view'; },
    apply(ev) {
      if (ev.type === 'file.uploaded') put(ev.data, ev.actor?.id !== ctx.session.user?.id);
      else if (ev.type === 'file.deleted') remove(ev.data.id);
    },
  };
}
