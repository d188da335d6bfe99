// Element building without innerHTML: every string child becomes a text node, so user text
// (titles, comments, file names, user names) can never become markup.

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {...any} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value == null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'testid') el.dataset.testid = value;
    else if (key === 'value' || key === 'checked' || key === 'selected') /** @type {any} */ (el)[key] = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** @param {Node} el @param {any[]} children */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    /** @type {any} */ (el).append(child instanceof Node ? child : String(child));
  }
}

/** Replaces the children of `el`. @param {Element} el @param {...any} children */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** Briefly highlights an element that changed live. @param {Element | null} el */
export function flash(el) {
  if (!el) return;
  el.classList.remove('flash');
  void /** @type {HTMLElement} */ (el).offsetWidth; // restart the animation
  el.classList.add('flash');
  el.addEventListener('animationend', () => el.classList.remove('flash'), { once: true });
}

/** A labelled form field. */
export function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', { text: label }), control, hint ? h('span', { class: 'hint', text: hint }) : null);
}

let uid = 0;
export function nextId(prefix = 'f') { uid += 1; return `${prefix}-${uid}`; }

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
export function formatTime(iso) { return iso ? dateTime.format(new Date(iso)) : ''; }
export function formatDate(ymd) { return ymd ? dateOnly.format(new Date(`${ymd}T00:00:00Z`)) : ''; }
export function todayUTC() { return new Date().toISOString().slice(0, 10); }
export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** Error text for a form: the server's per-field messages when it sent them. */
export function errorText(err) {
  const list = err?.data?.errors;
  if (Array.isArray(list) && list.length) return list.map((e) => `${e.field}: ${e.message}`).join('; ');
  if (err?.code === -32009 && err?.data?.field) return `That ${err.data.field} is already taken.`;
  if (err?.code === -32029) return 'Too many attempts; try again shortly.';
  return err?.message || String(err);
}
