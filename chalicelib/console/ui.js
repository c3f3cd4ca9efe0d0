// Small DOM helpers: elements without innerHTML (no markup from data), icons, toasts, times.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' || (k in el && typeof v !== 'string')) el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';
// 16x16 icons drawn here (no icon font, nothing fetched).
const SHAPES = {
  unknown: [['circle', { cx: 8, cy: 8, r: 6, fill: 'none', 'stroke-width': 2, 'stroke-dasharray': '3 2' }]],
  registered: [['circle', { cx: 8, cy: 8, r: 6, fill: 'none', 'stroke-width': 2 }], ['circle', { cx: 8, cy: 8, r: 2 }]],
  pending: [['circle', { cx: 8, cy: 8, r: 6, fill: 'none', 'stroke-width': 2 }], ['path', { d: 'M8 4v4l3 2', fill: 'none', 'stroke-width': 2 }]],
  in_sync: [['circle', { cx: 8, cy: 8, r: 7 }], ['path', { d: 'M4.5 8.5l2.2 2.2L11.5 6', fill: 'none', stroke: '#fff', 'stroke-width': 2 }]],
  error: [['circle', { cx: 8, cy: 8, r: 7 }], ['path', { d: 'M5.5 5.5l5 5M10.5 5.5l-5 5', fill: 'none', stroke: '#fff', 'stroke-width': 2 }]],
  overdue: [['path', { d: 'M8 1.5l7 13H1z' }], ['path', { d: 'M8 6v4M8 11.5v1.2', fill: 'none', stroke: '#fff', 'stroke-width': 1.6 }]],
  grip: [['path', { d: 'M5 3h2v2H5zM9 3h2v2H9zM5 7h2v2H5zM9 7h2v2H9zM5 11h2v2H5zM9 11h2v2H9z' }]],
};
export const STATUS_LABEL = { unknown: 'Unknown', registered: 'Registered', pending: 'Pending', in_sync: 'In sync', error: 'Error' };

export function icon(name, label) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('width', '16');
  svg.setAttribute('height', '16');
  svg.setAttribute('class', `icon icon-${name}`);
  if (label) { svg.setAttribute('role', 'img'); svg.setAttribute('aria-label', label); } else svg.setAttribute('aria-hidden', 'true');
  for (const [tag, attrs] of SHAPES[name] || SHAPES.unknown) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    svg.append(el);
  }
  if (label) {
    const title = document.createElementNS(SVG, 'title');
    title.textContent = label;
    svg.prepend(title);
  }
  return svg;
}

export function statusIcon(status) {
  const s = status || 'unknown';
  return h('span', { class: `status status-${s}`, dataset: { status: s } }, icon(s, STATUS_LABEL[s] || s), h('span', { class: 'status-text' }, STATUS_LABEL[s] || s));
}

export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  const el = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : undefined }, message);
  box.append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 9000 : 4000);
}

export function when(ms) {
  if (!ms) return 'never';
  const d = typeof ms === 'number' ? new Date(ms) : new Date(ms);
  return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

export function ago(ms) {
  if (!ms) return 'never';
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function bytes(n) {
  if (n === undefined || n === null) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1073741824) return `${(n / 1048576).toFixed(1)} MB`;
  return `${(n / 1073741824).toFixed(1)} GB`;
}

// A modal <dialog>: `build(close)` returns its content; resolves with what close() is given (undefined on Esc).
export function modal(title, build) {
  return new Promise((resolve) => {
    const dialog = h('dialog', { class: 'modal', 'aria-labelledby': 'modal-title' });
    const close = (value) => { dialog.close(); dialog.remove(); resolve(value); };
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); close(undefined); });
    dialog.append(h('h2', { id: 'modal-title' }, title), build(close));
    document.body.append(dialog);
    dialog.showModal();
  });
}

// A labelled field: <label for> + control.
let fieldSeq = 0;
export function field(label, control, hint) {
  const id = control.id || `f${++fieldSeq}`;
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('small', {}, hint) : null);
}

export function section(title, ...children) {
  const id = `s${++fieldSeq}`;
  return h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

export function errorText(err) { return err && err.message ? err.message : String(err); }
