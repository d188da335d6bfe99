// Shared bits of chrome: toasts, modal dialogs (native <dialog>, which keeps focus inside), the
// connection banner.
import { h } from './dom.js';

/** A short notice in the corner, read out by screen readers. @param {string} text */
export function toast(text, ms = 5000) {
  const box = document.getElementById('toasts');
  if (!box) return;
  const el = h('div', { class: 'toast', testid: 'toast', text });
  box.append(el);
  setTimeout(() => el.remove(), ms);
}

/**
 * Opens a modal dialog built by `build(close)`; resolves with what `close` was given.
 * showModal() makes the rest of the page inert, so Tab stays inside and Escape closes it.
 * @param {string} title
 * @param {(close: (value?: any) => void) => any} build
 * @param {string} [testid]
 */
export function openDialog(title, build, testid = 'dialog') {
  return new Promise((resolve) => {
    const headingId = `dlg-${Math.random().toString(36).slice(2)}`;
    const dialog = /** @type {HTMLDialogElement} */ (h('dialog', { 'aria-labelledby': headingId, testid }));
    let result;
    const close = (value) => { result = value; dialog.close(); };
    const body = h('div', { class: 'dialog-body' },
      h('header', null, h('h2', { id: headingId, text: title }),
        h('button', { type: 'button', class: 'link', 'aria-label': 'Close', testid: `${testid}-close`, text: 'Close', onclick: () => close() })),
      build(close));
    dialog.append(body);
    dialog.addEventListener('close', () => { dialog.remove(); resolve(result); });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** @returns {Promise<boolean>} */
export async function confirmDialog(question, confirmLabel = 'OK') {
  const answer = await openDialog('Please confirm', (close) => h('div', null,
    h('p', { text: question }),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'danger', testid: 'confirm-yes', text: confirmLabel, onclick: () => close(true) }),
      h('button', { type: 'button', testid: 'confirm-no', text: 'Cancel', autofocus: true, onclick: () => close(false) }))), 'confirm');
  return answer === true;
}

/**
 * The connection banner: "Reconnecting in 4 s" with Retry while down, then "Back online" for a
 * few seconds. `status` is the adapter's connection report (see net.js).
 */
export function connectionBanner(session) {
  const banner = /** @type {HTMLElement} */ (document.getElementById('conn-banner'));
  const text = /** @type {HTMLElement} */ (document.getElementById('conn-text'));
  const retry = /** @type {HTMLButtonElement} */ (document.getElementById('conn-retry'));
  retry.addEventListener('click', () => session.retryNow());
  let timer = 0;
  let hideTimer = 0;
  let wasDown = false;
  let nextAt = 0;
  const tick = () => {
    const secs = Math.max(0, Math.ceil((nextAt - Date.now()) / 1000));
    text.textContent = secs > 0 ? `Connection lost. Reconnecting in ${secs} s` : 'Connection lost. Reconnecting…';
  };
  session.onConnection((status) => {
    clearInterval(timer);
    if (status.state === 'reconnecting' || status.state === 'connecting') {
      if (!status.lost && !wasDown) return; // a blip shorter than the client's grace period stays silent
      wasDown = true;
      clearTimeout(hideTimer);
      banner.classList.remove('ok');
      banner.hidden = false;
      retry.hidden = false;
      nextAt = status.nextAttemptAt ?? 0;
      tick();
      timer = setInterval(tick, 250);
    } else if (status.state === 'closed') {
      wasDown = false;
      banner.hidden = true;
    } else if (status.state === 'open' && wasDown) {
      wasDown = false;
      retry.hidden = true;
      banner.classList.add('ok');
      text.textContent = caughtUpText(session.caughtUp);
      banner.hidden = false;
      hideTimer = setTimeout(() => { banner.hidden = true; }, 4000);
    }
  });
  // The library may report the catch-up before or after it reports "open": either order shows it.
  session.onCaughtUp((count) => {
    if (!banner.hidden && banner.classList.contains('ok')) text.textContent = caughtUpText(count);
  });
}

function caughtUpText(count) {
  if (count == null) return 'Back online.';
  return count > 0 ? `Back online. Caught up on ${count} change${count === 1 ? '' : 's'}.` : 'Back online. Nothing was missed.';
}
