// The profile: name and address, avatar, notifications on this device, password, and deleting
// the account.
import { h, field, errorText } from '../dom.js';
import { confirmDialog } from '../ui.js';
import { verifyNotice } from './auth.js';
import { devicesPanel } from './devices.js';

function section(title, testid, body, submitLabel, onSubmit, danger = false) {
  const status = h('p', { role: 'status', class: 'notice ok', hidden: true, testid: `${testid}-status` });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true, testid: `${testid}-error` });
  const form = h('form', { class: 'panel', testid }, h('h2', { text: title }), status, error, body,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: danger ? 'danger' : 'primary', testid: `${testid}-submit`, text: submitLabel })));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    status.hidden = error.hidden = true;
    try {
      const message = await onSubmit();
      if (message) { status.textContent = message; status.hidden = false; }
    } catch (err) { error.textContent = errorText(err); error.hidden = false; }
  });
  return form;
}

export function profilePage(ctx) {
  const user = ctx.session.user;
  const username = h('input', { type: 'text', value: user.username, required: true, autocomplete: 'username', testid: 'profile-username' });
  const email = h('input', { type: 'email', value: user.email, required: true, autocomplete: 'email', testid: 'profile-email' });
  const current = h('input', { type: 'password', autocomplete: 'current-password', testid: 'profile-current-password' });
  const details = section('Name and address', 'profile-form', [
    field('Username (shown to others)', username), field('Email', email),
    field('Current password', current, 'Needed only to change your email address'),
  ], 'Save', async () => {
    const params = {};
    if (username.value.trim() !== ctx.session.user.username) params.username = username.value.trim();
    if (email.value.trim() !== ctx.session.user.email) { params.email = email.value.trim(); params.currentPassword = current.value; }
    if (!Object.keys(params).length) return 'Nothing to change.';
    ctx.session.setUser(await ctx.session.call('users.updateMe', params));
    current.value = '';
    return 'Saved.';
  });

  const avatarImg = /** @type {HTMLImageElement} */ (h('img', { class: 'avatar', alt: 'Your avatar', testid: 'profile-avatar' }));
  const showAvatar = () => {
    const url = ctx.session.avatarUrl(ctx.session.user);
    avatarImg.hidden = !url;
    if (url) avatarImg.src = url;
  };
  showAvatar();
  const avatarFile = h('input', { type: 'file', accept: 'image/png,image/jpeg,image/gif,image/webp', testid: 'avatar-input' });
  const avatar = section('Avatar', 'avatar-form', [avatarImg, field('New picture', avatarFile, 'PNG, JPEG, GIF or WebP, up to 2 MB')], 'Upload', async () => {
    const file = avatarFile.files?.[0];
    if (!file) throw new Error('Choose a picture first.');
    const { avatarUrl } = await ctx.session.uploadAvatar(file);
    ctx.session.setUser({ ...ctx.session.user, avatarUrl });
    avatarFile.value = '';
    showAvatar();
    return 'Avatar updated.';
  });
  const removeAvatar = h('button', { type: 'button', testid: 'avatar-remove', text: 'Remove avatar' });
  removeAvatar.addEventListener('click', async () => {
    try {
      await ctx.session.removeAvatar();
      ctx.session.setUser({ ...ctx.session.user, avatarUrl: null });
      showAvatar();
    } catch (err) { ctx.notice(errorText(err)); }
  });
  avatar.querySelector('.actions')?.append(removeAvatar);

  const oldPw = h('input', { type: 'password', required: true, autocomplete: 'current-password', testid: 'password-current' });
  const newPw = h('input', { type: 'password', required: true, minlength: 8, autocomplete: 'new-password', testid: 'password-new' });
  const password = section('Change password', 'password-form', [h('input', { type: 'text', autocomplete: 'username', value: user.username, hidden: true, readonly: true, tabindex: -1, 'aria-hidden': 'true' }),
    field('Current password', oldPw), field('New password', newPw, 'At least 8 characters. Your other sessions will be signed out.')],
    'Change password', async () => {
      await ctx.session.changePassword(oldPw.value, newPw.value);
      oldPw.value = newPw.value = '';
      return 'Password changed. Every other session was signed out.';
    });

  const delPw = h('input', { type: 'password', required: true, autocomplete: 'current-password', testid: 'delete-password' });
  const remove = section('Delete account', 'delete-form', [
    h('p', { class: 'muted', text: 'Deletes your account, your tasks and their files. Your comments on others\' tasks stay, without your name.' }),
    field('Password', delPw)], 'Delete my account', async () => {
    if (!(await confirmDialog('Delete your account for good?', 'Delete account'))) return null;
    await ctx.session.call('users.deleteMe', { password: delPw.value });
    ctx.session.forget('Your account was deleted.');
    return null;
  }, true);

  const el = h('section', { class: 'form-page' }, h('h1', { text: 'Profile' }), verifyNotice(ctx), details, avatar, devicesPanel(ctx), password, remove);
  return { el, title: 'Profile' };
}
