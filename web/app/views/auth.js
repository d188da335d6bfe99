// Sign in, register, forgot password, and the "verify your address" page.
import { h, field, errorText } from '../dom.js';

function form(title, testid, fields, submitLabel, onSubmit, footer) {
  const error = h('p', { class: 'form-error', role: 'alert', testid: `${testid}-error`, hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary', testid: `${testid}-submit`, text: submitLabel });
  const el = h('form', { class: 'panel', testid: `${testid}-form` }, h('h1', { text: title }), error, fields,
    h('div', { class: 'actions' }, submit), footer);
  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    try {
      await onSubmit();
    } catch (err) {
      error.textContent = errorText(err);
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  return el;
}

function page(...children) {
  return h('section', { class: 'auth' }, h('div', { class: 'brand-big', text: 'Faros' }), children);
}

export function signIn(ctx) {
  const username = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true, testid: 'signin-username' });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true, testid: 'signin-password' });
  const message = ctx.flashMessage ? h('p', { class: 'notice warn', role: 'alert', testid: 'signin-message', text: ctx.flashMessage }) : null;
  const el = page(message, form('Sign in', 'signin', [field('Username', username), field('Password', password)], 'Sign in',
    async () => {
      await ctx.session.login(username.value.trim(), password.value);
      ctx.navigate('#/tasks');
    },
    h('p', null, h('a', { href: '#/forgot', text: 'Forgot your password?' }), ' · ',
      h('a', { href: '#/register', testid: 'goto-register', text: 'Create an account' }))));
  queueMicrotask(() => username.focus());
  return { el, title: 'Sign in' };
}

export function register(ctx) {
  const username = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true, minlength: 3, maxlength: 32, pattern: '[A-Za-z0-9_.\\-]+', testid: 'register-username' });
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'email', required: true, testid: 'register-email' });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true, minlength: 8, testid: 'register-password' });
  const el = page(form('Create an account', 'register', [
    field('Username', username, '3–32 letters, digits, _ . or -'),
    field('Email', email),
    field('Password', password, 'At least 8 characters'),
  ], 'Create account', async () => {
    await ctx.session.register(username.value.trim(), email.value.trim(), password.value);
    ctx.navigate('#/tasks');
  }, h('p', null, 'Already registered? ', h('a', { href: '#/signin', text: 'Sign in' }))));
  queueMicrotask(() => username.focus());
  return { el, title: 'Register' };
}

export function forgot(ctx) {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'email', required: true, testid: 'forgot-email' });
  const done = h('p', { class: 'notice ok', role: 'status', hidden: true, testid: 'forgot-done',
    text: 'If an account uses that address, a link to choose a new password is on its way. It is valid for 30 minutes.' });
  const el = page(done, form('Forgot your password?', 'forgot', [
    h('p', { class: 'muted', text: 'Enter the address of your account and we will mail you a link.' }),
    field('Email', email),
  ], 'Send link', async () => {
    await ctx.session.call('auth.requestPasswordReset', { email: email.value.trim() });
    done.hidden = false;
  }, h('p', null, h('a', { href: '#/signin', text: 'Back to sign in' }))));
  return { el, title: 'Forgot password' };
}

/** Shown for a signed-in user whose address is not verified yet. */
export function verifyNotice(ctx) {
  const user = ctx.session.user;
  if (!user || user.emailVerified) return null;
  const status = h('span', { role: 'status' });
  const resend = h('button', { type: 'button', class: 'link', testid: 'verify-resend', text: 'Send the link again' });
  resend.addEventListener('click', async () => {
    resend.disabled = true;
    try {
      await ctx.session.call('notifications.sendVerification', {});
      status.textContent = 'Sent. Check your inbox.';
    } catch (err) {
      status.textContent = errorText(err);
    } finally {
      resend.disabled = false;
    }
  });
  return h('div', { class: 'notice warn', testid: 'verify-notice' },
    'Verify your address: we mailed a link to ', h('strong', { text: user.email }), '. Notification mail waits until then. ',
    resend, ' · ', h('a', { href: '#/verify', text: 'More' }), ' ', status);
}

export function verify(ctx) {
  const notice = verifyNotice(ctx);
  const el = h('section', { class: 'panel' }, h('h1', { text: 'Verify your address' }),
    notice ?? h('p', { class: 'notice ok', text: 'Your address is verified.' }),
    h('p', { class: 'muted', text: 'The link in the mail opens a page of this server; once it says your address is verified, come back here.' }),
    h('div', { class: 'actions' }, h('button', { type: 'button', testid: 'verify-recheck', text: 'I have verified it',
      onclick: async () => { await ctx.session.reloadUser(); ctx.rerender(); } })));
  return { el, title: 'Verify your address' };
}
