// Configuration view (the Device Configuration Service, seed 000): files with their revisions, an editor that
// saves a new head only over the head it read (If-Match; a 412 is shown, nothing overwritten), a diff between
// revisions, configuration tasks created and released for a device with their state and progress live, and the
// device's actual configuration.
import { DCS, get, post, request, qs } from './api.js';
import { h, toast, bytes, when, field, section, modal, errorText } from './ui.js';
import { lineDiff } from './diff.js';

export const TITLE = 'Configuration';
const REFRESH_MS = 2000;
let state = null;

export async function render(main, args) {
  const mine = { main, timer: null, key: null };
  state = mine;
  state.files = h('ul', { class: 'list', id: 'config-files', 'aria-label': 'Configuration files' });
  state.detail = h('div', { id: 'config-detail' });
  const device = h('input', { name: 'device', required: true });
  const deviceForm = h('form', { class: 'inline-form', 'aria-label': 'Open a device' }, field('Device id', device),
    h('button', { type: 'submit' }, 'Open device'));
  deviceForm.addEventListener('submit', (e) => { e.preventDefault(); location.hash = `#/configuration/device/${encodeURIComponent(device.value.trim())}`; });
  main.append(h('div', { class: 'two-col' },
    h('div', { class: 'stack' }, section('Configuration files', fileForm(), state.files), section('Devices', deviceForm)),
    h('section', { class: 'panel', 'aria-label': 'Details' }, state.detail)));
  await refreshFiles();
  if (state !== mine) return undefined; // left while loading
  update(args);
  return () => { clearInterval(mine.timer); if (state === mine) state = null; };
}

export function update(args) {
  clearInterval(state.timer);
  const [kind, id] = args;
  state.key = kind && id ? `${kind}/${id}` : null;
  for (const a of state.files.querySelectorAll('a')) a.setAttribute('aria-current', String(`file/${a.dataset.file}` === state.key));
  if (kind === 'file' && id) fileView(id);
  else if (kind === 'device' && id) {
    deviceView(id);
    state.timer = setInterval(() => { if (!document.hidden) deviceView(id, true); }, REFRESH_MS);
  } else {
    state.detail.replaceChildren(h('h2', {}, 'Configuration'),
      h('p', { class: 'muted' }, 'Choose a file to edit it and send it to a device, or open a device to see its tasks and actual configuration.'));
  }
}

function fileForm() {
  const path = h('input', { name: 'path', required: true, placeholder: 'sensor01/app.json' });
  const description = h('input', { name: 'description' });
  const form = h('form', { class: 'inline-form', 'aria-label': 'New configuration file' },
    field('Path', path), field('Description', description), h('button', { type: 'submit', class: 'primary' }, 'Create file'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const file = await post(`${DCS}/files`, { path: path.value.trim(), description: description.value.trim() });
      form.reset();
      await refreshFiles();
      location.hash = `#/configuration/file/${file.id}`;
    } catch (err) { toast(`Could not create the file: ${errorText(err)}`, 'error'); }
  });
  return form;
}

async function refreshFiles() {
  const page = await get(`${DCS}/files${qs({ size: 200 })}`);
  if (!state) return;
  state.files.replaceChildren(...page.content.map(f => h('li', {},
    h('a', { href: `#/configuration/file/${f.id}`, dataset: { file: f.id } }, f.path), ' ',
    h('span', { class: 'muted' }, f.head ? `head ${f.head.slice(0, 8)}` : 'no content yet'))));
  if (!page.content.length) state.files.append(h('li', { class: 'muted' }, 'No configuration files yet.'));
}

async function fileView(id) {
  const key = `file/${id}`;
  const base = `${DCS}/files/${encodeURIComponent(id)}`;
  let file, revisions, head;
  try {
    [file, revisions] = await Promise.all([get(base), get(`${base}/revisions${qs({ size: 200 })}`)]);
    head = file.head ? await request('GET', `${base}/head`, { raw: true }) : null;
  } catch (err) {
    state.detail.replaceChildren(h('p', { class: 'form-error' }, errorText(err)));
    return;
  }
  if (!state || state.key !== key) return;
  let readHead = file.head || null; // the head this editor's text is based on: sent as If-Match
  const editor = h('textarea', { name: 'content', rows: 12, spellcheck: false, value: head ? head.text : '' });
  const type = h('input', { name: 'content-type', value: (head && head.headers.get('Content-Type')) || 'application/json' });
  const based = h('p', { class: 'muted', id: 'editor-base' });
  const conflict = h('div', { id: 'conflict', role: 'alert', hidden: true, class: 'conflict' });
  const showBase = () => { based.textContent = readHead ? `Editing over head ${readHead.slice(0, 12)}…` : 'No content yet: the first save creates the head.'; };
  showBase();
  const form = h('form', { 'aria-label': 'Edit the head' }, field('Content', editor), field('Content type', type), based, conflict,
    h('div', { class: 'inline-form' }, h('button', { type: 'submit', class: 'primary' }, 'Save new head')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    conflict.hidden = true;
    const headers = { 'Content-Type': type.value.trim() || 'application/octet-stream', Accept: 'application/json' };
    if (readHead) headers['If-Match'] = `"${readHead}"`;
    try {
      const saved = JSON.parse((await request('PATCH', `${base}/head`, { body: editor.value, raw: true, headers })).text);
      readHead = saved.head;
      showBase();
      toast(`Saved: head ${saved.head.slice(0, 12)}…`);
      refreshFiles();
      refreshRevisions(base, revisionBox, saved.head);
    } catch (err) {
      if (err.status === 412) {
        const now = await get(base).catch(() => ({}));
        conflict.replaceChildren(h('strong', {}, 'Not saved: the file changed since you opened it. '),
          `Its head is now ${(now.head || '?').slice(0, 12)}…, not ${readHead.slice(0, 12)}…. Your text is kept here. `,
          h('button', { type: 'button', onclick: () => fileView(id) }, 'Discard my text and load the new head'));
        conflict.hidden = false;
      } else toast(`Could not save: ${errorText(err)}`, 'error');
    }
  });
  const revisionBox = h('div', { id: 'revisions' });
  renderRevisions(base, revisionBox, revisions.content, readHead);
  const device = h('input', { name: 'task-device', required: true, value: file.path.replace(/^\//, '').split('/')[0] });
  const taskForm = h('form', { class: 'inline-form', 'aria-label': 'Send to a device' }, field('Device for the task', device),
    h('button', { type: 'submit' }, 'Create configuration task'));
  taskForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const dev = device.value.trim();
    try {
      await post(`${DCS}/devices/${encodeURIComponent(dev)}/configurationTasks`, { files: [{ name: file.path, uri: `${base}/head` }] });
      toast(`Task created for ${dev}: release it to send it.`);
      location.hash = `#/configuration/device/${encodeURIComponent(dev)}`;
    } catch (err) { toast(`Could not create the task: ${errorText(err)}`, 'error'); }
  });
  state.detail.replaceChildren(h('h2', {}, file.path), file.description ? h('p', { class: 'muted' }, file.description) : '',
    form, h('h3', {}, 'Revisions'), revisionBox,
    h('h3', {}, 'Send to a device'), h('p', { class: 'muted' }, 'The task pins the current head; it starts CREATED and reaches the device once released.'), taskForm);
}

async function refreshRevisions(base, box, headHash) {
  const page = await get(`${base}/revisions${qs({ size: 200 })}`);
  renderRevisions(base, box, page.content, headHash);
}

function renderRevisions(base, box, revisions, headHash) {
  if (!revisions.length) { box.replaceChildren(h('p', { class: 'muted' }, 'No revisions yet.')); return; }
  const diffOut = h('div', { id: 'diff' });
  const choose = (name, i) => h('input', { type: 'radio', name, value: revisions[i].hash, 'aria-label': `${name === 'from' ? 'Compare from' : 'Compare to'} ${revisions[i].hash.slice(0, 12)}` });
  const rows = revisions.map((r, i) => h('tr', { dataset: { revision: r.hash } },
    h('td', {}, choose('from', i)), h('td', {}, choose('to', i)),
    h('td', { class: 'hashes', title: r.hash }, r.hash.slice(0, 16), '…', r.hash === headHash ? h('span', { class: 'pill pill-CONFIGURED' }, ' head') : ''),
    h('td', {}, bytes(r.contentLength)), h('td', {}, r.contentType || '')));
  const table = h('table', { class: 'revisions' }, h('thead', {}, h('tr', {}, ['From', 'To', 'Revision', 'Size', 'Type'].map(t => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows));
  const button = h('button', { type: 'button', onclick: async () => {
    const from = table.querySelector('input[name=from]:checked');
    const to = table.querySelector('input[name=to]:checked');
    if (!from || !to) { toast('Choose a revision to compare from and one to compare to.', 'error'); return; }
    try {
      const [a, b] = await Promise.all([from.value, to.value].map(hash => request('GET', `${base}/revisions/${hash}/content`, { raw: true })));
      const lines = lineDiff(a.text, b.text);
      diffOut.replaceChildren(h('pre', { class: 'diff', 'aria-label': 'Differences' }, lines.map(([kind, line]) =>
        h('span', { class: kind }, `${{ add: '+ ', del: '- ', same: '  ' }[kind]}${line}`))));
    } catch (err) { toast(`Could not compare: ${errorText(err)}`, 'error'); }
  } }, 'Compare');
  box.replaceChildren(table, h('div', { class: 'inline-form' }, button), diffOut);
  // by default, the head against another revision
  const headIndex = revisions.findIndex(r => r.hash === headHash);
  if (revisions.length > 1 && headIndex >= 0) {
    table.querySelectorAll('input[name=to]')[headIndex].checked = true;
    table.querySelectorAll('input[name=from]')[headIndex === 0 ? 1 : 0].checked = true;
  }
}

const OPEN = ['CREATED', 'CONFIGURE', 'CONFIGURING'];

async function deviceView(id, quiet = false) {
  const key = `device/${id}`;
  const base = `${DCS}/devices/${encodeURIComponent(id)}`;
  let tasks, actual;
  try {
    [tasks, actual] = await Promise.all([get(`${base}/configurationTasks${qs({ size: 50 })}`), get(`${base}/configuration${qs({ size: 200 })}`)]);
  } catch (err) {
    if (!quiet && state && state.key === key) state.detail.replaceChildren(h('h2', {}, id), h('p', { class: 'form-error' }, errorText(err)));
    return;
  }
  if (!state || state.key !== key) return;
  const seen = JSON.stringify([tasks.content, actual.content]);
  if (quiet && seen === state.seen) return; // redrawn only when something changed (keeps focus and open parts)
  state.seen = seen;
  const list = [...tasks.content].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  const open = state.detail.querySelector('details[open]');
  const keepOpen = open ? open.dataset.task : null;
  state.detail.replaceChildren(h('h2', {}, `Device ${id}`),
    h('h3', {}, 'Configuration tasks'),
    list.length ? h('table', { id: 'tasks' }, h('thead', {}, h('tr', {}, ['Created', 'Files', 'State', 'Progress', ''].map(t => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, list.map(t => taskRow(base, t, keepOpen)))) : h('p', { class: 'muted' }, 'No tasks yet: create one from a file.'),
    h('h3', {}, 'Actual configuration'),
    actual.content.length ? h('ul', { class: 'list', id: 'actual' }, actual.content.map(c => actualItem(c)))
      : h('p', { class: 'muted', id: 'actual' }, 'Nothing configured yet.'));
}

function taskRow(base, t, keepOpen) {
  const s = t.currentState || {};
  const progress = typeof s.progress === 'number' ? s.progress : 0;
  const buttons = [];
  if (s.state === 'CREATED') buttons.push(h('button', { type: 'button', class: 'primary', onclick: () => move(base, t, 'CONFIGURE') }, 'Release'));
  if (OPEN.includes(s.state)) buttons.push(h('button', { type: 'button', class: 'danger', onclick: () => move(base, t, 'CANCELED') }, 'Cancel task'));
  const history = h('details', { dataset: { task: t.id }, open: t.id === keepOpen }, h('summary', {}, 'History'),
    h('ol', { class: 'messages' }, (t.history || []).map(x => h('li', {}, h('span', { class: `pill pill-${x.state}` }, x.state), ' ', when(x.entered),
      typeof x.progress === 'number' ? ` · ${Math.round(x.progress * 100)} %` : '', x.message ? ` · ${x.message}` : ''))));
  return h('tr', { dataset: { task: t.id, state: s.state } },
    h('td', {}, when(t.createdAt)),
    h('td', {}, (t.files || []).map(f => h('div', {}, f.name, ' ', h('span', { class: 'muted hashes' }, (f.checksum || '').replace('sha256:', '').slice(0, 12))))),
    h('td', {}, h('span', { class: `pill pill-${s.state}` }, s.state), s.message ? h('div', { class: 'muted' }, s.message) : ''),
    h('td', {}, h('progress', { max: 100, value: Math.round(progress * 100), 'aria-label': `Progress of task ${t.id}` }), ` ${Math.round(progress * 100)} %`),
    h('td', {}, h('div', { class: 'buttons' }, buttons), history));
}

async function move(base, task, to) {
  if (to === 'CANCELED') {
    const ok = await modal('Cancel this configuration task?', (close) => h('div', {},
      h('p', {}, 'The device stops seeing it; nothing is configured.'),
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => close(false) }, 'Keep it'),
        h('button', { type: 'button', class: 'danger', onclick: () => close(true) }, 'Cancel task'))));
    if (!ok) return;
  }
  try {
    await request('PATCH', `${base}/configurationTasks/${task.id}`, { body: to === 'CONFIGURE' ? { state: to, progress: 0 } : { state: to } });
    toast(to === 'CONFIGURE' ? 'Released: the device finds it on its next poll.' : 'Task canceled.');
  } catch (err) { toast(`Could not change the task: ${errorText(err)}`, 'error'); }
  const id = decodeURIComponent(base.split('/').pop());
  deviceView(id);
}

function actualItem(c) {
  const out = h('pre', { class: 'content', hidden: true });
  const button = h('button', { type: 'button', 'aria-expanded': 'false', onclick: async () => {
    if (!out.hidden) { out.hidden = true; button.setAttribute('aria-expanded', 'false'); return; }
    try {
      out.textContent = (await request('GET', c.contentUri, { raw: true })).text;
      out.hidden = false;
      button.setAttribute('aria-expanded', 'true');
    } catch (err) { toast(errorText(err), 'error'); }
  } }, 'Show content');
  return h('li', { dataset: { path: c.path } }, h('strong', {}, c.path), ' ', h('span', { class: 'hashes muted' }, c.hash.slice(0, 16), '…'),
    ' ', h('span', { class: 'muted' }, `configured ${when(c.configuredAt)}`), ' ', button, out);
}
