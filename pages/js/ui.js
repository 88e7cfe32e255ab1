// ui.js — small DOM building blocks shared by every view.
//
// Everything is built with createElement and textContent (never innerHTML with data), so a
// course title or a display name can hold any character. Inline style attributes are not
// used (the Content-Security-Policy forbids them); sizes set from data go through the CSSOM.

/**
 * h('a', {href: '#/x', class: 'btn'}, 'text', child, [more]) → element.
 * Attributes: class, dataset (object), on<event> (function), aria-* and the rest as attributes;
 * `false`, null and undefined attributes are left out; children may be strings, nodes, arrays.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * A labelled progress bar (role=progressbar, aria-valuenow = value) whose fill follows
 * `value` (0..max). Returns the element; update it with setProgress.
 */
export function progressBar(value, { label, max = 100, text, id } = {}) {
  const fillEl = h('span', { class: 'bar-fill' });
  const el = h('div', {
    class: 'bar', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': max, 'aria-label': label, id,
  }, fillEl, h('span', { class: 'bar-text' }));
  setProgress(el, value, { max, text });
  return el;
}

export function setProgress(el, value, { max, text } = {}) {
  const m = max ?? Number(el.getAttribute('aria-valuemax'));
  const v = Math.max(0, Math.min(Number(value) || 0, m));
  el.setAttribute('aria-valuemax', m);
  el.setAttribute('aria-valuenow', v);
  const shown = text ?? `${Number.isInteger(v) ? v : v.toFixed(1)} %`;
  el.setAttribute('aria-valuetext', shown);
  el.querySelector('.bar-fill').style.width = `${m ? (v / m) * 100 : 0}%`;
  el.querySelector('.bar-text').textContent = shown;
}

/** An API error (ApiError or anything thrown) as a readable alert box. */
export function problemBox(err, { heading } = {}) {
  const box = h('div', { class: 'problem', role: 'alert' });
  const title = heading || (err.status ? `${err.title} (${err.status})` : err.title || 'Something went wrong');
  box.append(h('strong', {}, title));
  const detail = err.detail || err.message;
  if (detail) box.append(h('p', {}, detail));
  if (err.errors && err.errors.length) {
    box.append(h('ul', {}, err.errors.map((e) => h('li', {}, h('code', {}, e.field), ' ', e.message))));
  }
  if (err.retryAfter) box.append(h('p', {}, `Try again in ${err.retryAfter} s.`));
  if (err.code && err.code !== 'error') box.append(h('p', { class: 'muted small' }, `code: ${err.code}`));
  return box;
}

/** A short message in the live region, gone after a few seconds. */
export function toast(message, { kind = 'info', ms = 5000 } = {}) {
  const region = document.getElementById('toasts');
  const el = h('div', { class: `toast toast-${kind}` }, message);
  region.append(el);
  setTimeout(() => el.remove(), ms);
}

export function loading(what = 'Loading') {
  return h('p', { class: 'muted loading', 'aria-busy': 'true' }, `${what}…`);
}

/** A titled card. */
export function card(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', {}, title) : null, ...children);
}

/** A figure tile: big value, small label. */
export function stat(label, value, { id, hint } = {}) {
  return h('div', { class: 'stat', id }, h('span', { class: 'stat-value' }, value), h('span', { class: 'stat-label' }, label),
    hint ? h('span', { class: 'stat-hint' }, hint) : null);
}

/**
 * A table: columns [{label, cell(row) → node|string, class?}], rows; `caption` for readers.
 * `rowClass(row)` may mark a row (e.g. the signed-in learner on a board).
 */
export function table(columns, rows, { caption, empty = 'Nothing here yet.', rowClass } = {}) {
  if (!rows.length) return h('p', { class: 'muted empty' }, empty);
  return h('div', { class: 'table-wrap' }, h('table', {},
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
    h('tbody', {}, rows.map((r) => h('tr', { class: rowClass ? rowClass(r) : null },
      columns.map((c) => h('td', { class: c.class }, c.cell(r))))))));
}

/** Previous / next buttons for `page`-paged lists ({page, limit, total}). */
export function pager({ page, limit, total }, onPage) {
  const pages = Math.max(1, Math.ceil(total / limit));
  return h('nav', { class: 'pager', 'aria-label': 'Pages' },
    h('button', { type: 'button', class: 'btn', disabled: page <= 1, onclick: () => onPage(page - 1) }, '← Previous'),
    h('span', { class: 'muted' }, `Page ${page} of ${pages} · ${total} in all`),
    h('button', { type: 'button', class: 'btn', disabled: page >= pages, onclick: () => onPage(page + 1) }, 'Next →'));
}

/**
 * A group of toggle buttons (aria-pressed), one chosen: options [{value, label}].
 * Arrow keys move between them as well as Tab.
 */
export function choice(label, options, selected, onChange) {
  const group = h('div', { class: 'choice', role: 'group', 'aria-label': label });
  for (const o of options) {
    group.append(h('button', {
      type: 'button', class: 'btn', 'aria-pressed': String(o.value === selected), dataset: { value: o.value },
      onclick: () => onChange(o.value),
      onkeydown: (e) => {
        if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
        const sib = e.key === 'ArrowRight' ? e.target.nextElementSibling : e.target.previousElementSibling;
        if (sib) sib.focus();
      },
    }, o.label));
  }
  return group;
}

/** A labelled <select>: options [{value, label}]. */
export function select(label, options, selected, onChange, { id } = {}) {
  const sel = h('select', { id, onchange: (e) => onChange(e.target.value) },
    options.map((o) => h('option', { value: o.value, selected: o.value === selected }, o.label)));
  return h('label', { class: 'field inline' }, h('span', {}, label), sel);
}

/** A status word as a small badge. */
export function badge(text, kind = text) {
  return h('span', { class: `badge badge-${kind}` }, text);
}
