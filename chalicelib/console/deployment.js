// Deployment view (hawkBit's seed 001): targets with their update status, distribution sets dragged onto them
// (or assigned to the selected targets from the keyboard), a target's actions with their status messages.
import { MGMT, get, post, request, qs } from './api.js';
import { h, icon, statusIcon, toast, ago, when, modal, field, section, errorText } from './ui.js';

export const TITLE = 'Deployment';
const DS_TYPE = 'application/x-skyhawk-ds';
const REFRESH_MS = 3000;

let state = null;

export async function render(main, args) {
  const mine = { selected: new Set(), rows: new Map(), sets: [], target: args[0] || null, query: '', timer: null, openActions: new Set() };
  state = mine;
  const search = h('input', { type: 'search', id: 'target-search', placeholder: 'name or id, or RSQL: updateStatus==error' });
  search.addEventListener('input', debounce(() => { state.query = search.value.trim(); refreshTargets(); }, 300));
  state.count = h('span', { class: 'muted', id: 'target-count', 'aria-live': 'polite' });
  state.tbody = h('tbody');
  const table = h('table', { class: 'targets', id: 'targets' },
    h('caption', { class: 'sr-only' }, 'Targets: drop a distribution set on a row to assign it (to every selected row if the row is selected)'),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Selected')),
      h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Controller id'), h('th', { scope: 'col' }, 'Name'),
      h('th', { scope: 'col' }, 'Last poll'))),
    state.tbody);
  state.setList = h('ul', { class: 'sets', id: 'distribution-sets', 'aria-label': 'Distribution sets' });
  state.tagList = h('ul', { class: 'tag-drops', id: 'tag-drops', 'aria-label': 'Target tags: drop a set on a tag to assign it to its targets' });
  state.search = search;
  state.detail = h('div', { id: 'target-detail' });
  const clear = h('button', { type: 'button', onclick: () => { state.selected.clear(); syncSelection(); } }, 'Clear selection');
  main.append(h('div', { class: 'deploy-grid' },
    section('Targets', h('div', { class: 'toolbar' }, field('Filter targets', search), state.count, clear), state.tagList, table),
    section('Distribution sets',
      h('p', { class: 'muted' }, 'Drag a set onto a target, or select targets and use "Assign to selected".'),
      state.setList),
    h('section', { class: 'panel detail', 'aria-label': 'Target details' }, state.detail)));
  await Promise.all([refreshTargets(), refreshSets(), refreshTags()]);
  await refreshDetail();
  if (state !== mine) return undefined; // left while loading
  mine.timer = setInterval(() => { if (!document.hidden) { refreshTargets(); refreshSets(); refreshTags(); refreshDetail(); } }, REFRESH_MS);
  return () => { clearInterval(mine.timer); if (state === mine) state = null; };
}

export function update(args) {
  state.target = args[0] || null;
  state.openActions.clear();
  refreshDetail();
  for (const [id, row] of state.rows) row.classList.toggle('current', id === state.target);
}

function debounce(fn, ms) {
  let t = null;
  return () => { clearTimeout(t); t = setTimeout(fn, ms); };
}

function targetQuery(text) {
  if (!text) return undefined;
  if (/[=<>!]/.test(text)) return text; // RSQL as typed
  const v = text.replace(/[,;()'"\\]/g, '');
  return `name==*${v}*,controllerId==*${v}*`;
}

async function refreshTargets() {
  if (!state) return;
  let page;
  try {
    page = await get(`${MGMT}/targets${qs({ limit: 200, sort: 'controllerId:ASC', q: targetQuery(state.query) })}`);
  } catch (err) {
    state.count.textContent = errorText(err);
    return;
  }
  if (!state) return;
  state.count.textContent = `${page.total} target${page.total === 1 ? '' : 's'}`
    + (page.total > page.content.length ? ` (the first ${page.content.length}: filter to see others)` : '');
  const seen = new Set();
  for (const t of page.content) {
    seen.add(t.controllerId);
    let row = state.rows.get(t.controllerId);
    if (!row) {
      row = targetRow(t.controllerId);
      state.rows.set(t.controllerId, row);
    }
    fillRow(row, t);
    state.tbody.append(row); // keeps the server's order
  }
  for (const [id, row] of state.rows) if (!seen.has(id)) { row.remove(); state.rows.delete(id); state.selected.delete(id); }
  if (!page.content.length) state.tbody.replaceChildren(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No targets.')));
  else for (const row of [...state.tbody.children]) if (!row.dataset.target) row.remove();
}

// Accept a dragged distribution set: `onDrop(dsId)`.
function dropZone(el, onDrop) {
  el.addEventListener('dragover', (e) => {
    if (!e.dataTransfer.types.includes(DS_TYPE)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    el.classList.add('drop');
  });
  el.addEventListener('dragleave', () => el.classList.remove('drop'));
  el.addEventListener('drop', (e) => {
    el.classList.remove('drop');
    const dsId = e.dataTransfer.getData(DS_TYPE);
    if (!dsId) return;
    e.preventDefault();
    onDrop(Number(dsId));
  });
}

async function refreshTags() {
  let page;
  try {
    page = await get(`${MGMT}/targettags${qs({ limit: 100 })}`);
  } catch {
    return; // tags are optional here
  }
  if (!state) return;
  const key = JSON.stringify(page.content.map(t => [t.id, t.name]));
  if (key === state.tagsKey) return;
  state.tagsKey = key;
  state.tagList.replaceChildren(...(page.content.length ? [h('li', { class: 'muted' }, 'Tags:')] : []), ...page.content.map(tag => {
    const chip = h('li', { class: 'tag-drop', dataset: { tag: tag.name } },
      h('button', { type: 'button', title: `Show the targets tagged ${tag.name}; drop a set here to assign it to all of them`,
        onclick: () => { state.search.value = `tag==${tag.name}`; state.query = state.search.value; refreshTargets(); } }, tag.name));
    dropZone(chip, async (dsId) => {
      try {
        const tagged = await get(`${MGMT}/targettags/${tag.id}/assigned${qs({ limit: 500 })}`);
        const ids = (Array.isArray(tagged) ? tagged : tagged.content).map(t => t.controllerId);
        if (!ids.length) { toast(`No targets are tagged ${tag.name}.`, 'error'); return; }
        assign(dsId, ids);
      } catch (err) { toast(errorText(err), 'error'); }
    });
    return chip;
  }));
}

function targetRow(id) {
  const check = h('input', { type: 'checkbox', 'aria-label': `Select ${id}` });
  check.addEventListener('change', () => { if (check.checked) state.selected.add(id); else state.selected.delete(id); syncSelection(); });
  const row = h('tr', { dataset: { target: id } },
    h('td', {}, check), h('td', { class: 'c-status' }),
    h('td', {}, h('a', { href: `#/deployment/${encodeURIComponent(id)}` }, id)), h('td', { class: 'c-name' }), h('td', { class: 'c-poll' }));
  dropZone(row, (dsId) => assign(dsId, state.selected.has(id) ? [...state.selected] : [id]));
  row.classList.toggle('current', id === state.target);
  return row;
}

function fillRow(row, t) {
  const status = t.updateStatus || 'unknown';
  row.dataset.status = status;
  const statusCell = row.querySelector('.c-status');
  if (statusCell.dataset.status !== status) {
    statusCell.dataset.status = status;
    statusCell.replaceChildren(statusIcon(status));
  }
  row.querySelector('.c-name').textContent = t.name || '';
  const poll = t.pollStatus || {};
  const cell = row.querySelector('.c-poll');
  cell.replaceChildren(h('span', { title: poll.lastRequestAt ? when(poll.lastRequestAt) : 'never polled' }, ago(poll.lastRequestAt)));
  if (poll.overdue) cell.append(h('span', { class: 'badge badge-warn overdue', title: `expected by ${when(poll.nextExpectedRequestAt)}` }, icon('overdue'), ' overdue'));
  row.querySelector('input[type=checkbox]').checked = state.selected.has(t.controllerId);
}

function syncSelection() {
  for (const [id, row] of state.rows) {
    const on = state.selected.has(id);
    row.classList.toggle('selected', on);
    row.querySelector('input[type=checkbox]').checked = on;
  }
  for (const b of state.setList.querySelectorAll('button.assign')) {
    b.textContent = state.selected.size ? `Assign to ${state.selected.size} selected` : 'Assign to selected';
  }
}

async function refreshSets() {
  let page;
  try {
    page = await get(`${MGMT}/distributionsets${qs({ limit: 200, sort: 'id:DESC' })}`);
  } catch (err) {
    state.setList.replaceChildren(h('li', { class: 'form-error' }, errorText(err)));
    return;
  }
  if (!state) return;
  // Redrawn only when the sets changed, and never under a drag.
  const key = JSON.stringify(page.content.map(ds => [ds.id, ds.name, ds.version, ds.type]));
  if (key === state.setsKey || state.setList.querySelector('.dragging')) return;
  state.setsKey = key;
  state.sets = page.content;
  state.setList.replaceChildren(...page.content.map(setCard));
  if (!page.content.length) state.setList.append(h('li', { class: 'muted' }, 'No distribution sets yet: create one in Upload.'));
  syncSelection();
}

function setCard(ds) {
  const label = `${ds.name}:${ds.version}`;
  const card = h('li', { class: 'set', draggable: 'true', dataset: { set: String(ds.id), name: label }, 'aria-roledescription': 'draggable distribution set' },
    icon('grip'), h('span', { class: 'set-name' }, h('strong', {}, ds.name), ' ', ds.version),
    h('span', { class: 'muted' }, ds.type || ''),
    h('button', { type: 'button', class: 'assign', onclick: () => {
      if (!state.selected.size) { toast('Select one or more targets first (the checkboxes in the targets table).', 'error'); return; }
      assign(ds.id, [...state.selected]);
    } }, 'Assign to selected'));
  card.addEventListener('dragstart', (e) => {
    e.dataTransfer.setData(DS_TYPE, String(ds.id));
    e.dataTransfer.setData('text/plain', label);
    e.dataTransfer.effectAllowed = 'copy';
    card.classList.add('dragging');
  });
  card.addEventListener('dragend', () => card.classList.remove('dragging'));
  return card;
}

function offsetText() {
  const m = -new Date().getTimezoneOffset();
  const sign = m < 0 ? '-' : '+';
  const a = Math.abs(m);
  return `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

async function assign(dsId, targets) {
  const ds = state.sets.find(s => s.id === dsId);
  const label = ds ? `${ds.name}:${ds.version}` : `#${dsId}`;
  const body = await modal(`Assign ${label}`, (close) => {
    const radios = ['forced', 'soft', 'timeforced', 'downloadonly'].map((type, i) =>
      h('label', { class: 'radio' }, h('input', { type: 'radio', name: 'atype', value: type, checked: i === 0 }),
        { forced: 'Forced', soft: 'Soft', timeforced: 'Time-forced', downloadonly: 'Download only' }[type]));
    const forceAt = h('input', { type: 'datetime-local', name: 'forcetime' });
    const forceField = field('Forced from', forceAt, 'Soft until then, forced from then on');
    forceField.hidden = true;
    const useWindow = h('input', { type: 'checkbox', name: 'mw' });
    const schedule = h('input', { name: 'schedule', value: '0 0 2 ? * *' });
    const duration = h('input', { name: 'duration', value: '02:00:00', pattern: '\\d{2}:\\d{2}:\\d{2}' });
    const zone = h('input', { name: 'timezone', value: offsetText(), pattern: '[+\\-]\\d{2}:\\d{2}' });
    const windowFields = h('div', { class: 'window', hidden: true }, field('Schedule (cron)', schedule, 'Quartz cron: second minute hour day month weekday'),
      field('Duration (hh:mm:ss)', duration), field('Time zone (±hh:mm)', zone));
    useWindow.addEventListener('change', () => { windowFields.hidden = !useWindow.checked; });
    const form = h('form', { method: 'dialog' },
      h('p', {}, `To ${targets.length} target${targets.length === 1 ? '' : 's'}: `, h('strong', {}, targets.join(', '))),
      h('fieldset', {}, h('legend', {}, 'Type'), ...radios),
      forceField,
      h('label', { class: 'radio' }, useWindow, 'Maintenance window'), windowFields,
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => close(undefined) }, 'Cancel'),
        h('button', { type: 'submit', class: 'primary' }, 'Assign')));
    form.addEventListener('change', () => {
      forceField.hidden = form.querySelector('input[name=atype]:checked').value !== 'timeforced';
    });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const type = form.querySelector('input[name=atype]:checked').value;
      if (type === 'timeforced' && !forceAt.value) { forceAt.focus(); toast('A time-forced assignment needs its time.', 'error'); return; }
      close(targets.map(id => {
        const item = { id, type };
        if (type === 'timeforced') item.forcetime = new Date(forceAt.value).getTime();
        if (useWindow.checked) item.maintenanceWindow = { schedule: schedule.value, duration: duration.value, timezone: zone.value };
        return item;
      }));
    });
    return form;
  });
  if (!body) return;
  try {
    const result = await post(`${MGMT}/distributionsets/${dsId}/assignedTargets`, body);
    toast(`${label}: ${result.assigned} assigned, ${result.alreadyAssigned} already assigned.`);
  } catch (err) {
    toast(`Assignment failed: ${errorText(err)}`, 'error');
  }
  refreshTargets();
  refreshDetail();
}

async function refreshDetail() {
  if (!state) return;
  const id = state.target;
  if (!id) {
    state.detail.replaceChildren(h('h2', {}, 'Target'), h('p', { class: 'muted' }, 'Choose a target to see its actions.'));
    return;
  }
  const base = `${MGMT}/targets/${encodeURIComponent(id)}`;
  let target, actions, assigned, installed;
  try {
    [target, actions, assigned, installed] = await Promise.all([get(base),
      get(`${base}/actions${qs({ limit: 50, sort: 'id:DESC' })}`),
      get(`${base}/assignedDS`).catch(() => null), get(`${base}/installedDS`).catch(() => null)]);
  } catch (err) {
    state.detail.replaceChildren(h('h2', {}, id), h('p', { class: 'form-error' }, errorText(err)));
    return;
  }
  if (!state || state.target !== id) return;
  const poll = target.pollStatus || {};
  const dsName = (ds) => (ds && ds.name ? `${ds.name}:${ds.version}` : '—');
  const rows = await Promise.all(actions.content.map(a => actionRows(base, a)));
  if (!state || state.target !== id) return;
  state.detail.replaceChildren(
    h('h2', {}, target.name || id, ' ', h('span', { class: 'muted' }, `(${id})`)),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Update status'), h('dd', { id: 'detail-status' }, statusIcon(target.updateStatus)),
      h('dt', {}, 'Last poll'), h('dd', {}, when(poll.lastRequestAt), poll.overdue ? h('span', { class: 'badge badge-warn' }, ' overdue') : null),
      h('dt', {}, 'Next poll expected'), h('dd', {}, when(poll.nextExpectedRequestAt)),
      h('dt', {}, 'Assigned'), h('dd', {}, dsName(assigned)),
      h('dt', {}, 'Installed'), h('dd', {}, dsName(installed))),
    h('h3', {}, 'Actions'),
    actions.content.length
      ? h('table', { class: 'actions-table', id: 'actions' },
        h('thead', {}, h('tr', {}, ['Action', 'Set', 'Type', 'Status', 'Updated', ''].map(t => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows))
      : h('p', { class: 'muted' }, 'No actions yet.'));
}

function setOf(action) {
  const href = action._links && action._links.distributionset && action._links.distributionset.href;
  const dsId = href ? Number(href.split('/').pop()) : null;
  const ds = state.sets.find(s => s.id === dsId);
  return ds ? `${ds.name}:${ds.version}` : (dsId ? `#${dsId}` : '');
}

async function actionRows(base, a) {
  const active = a.active !== undefined ? a.active : !['finished', 'canceled', 'error'].includes(a.status);
  const open = state.openActions.has(a.id);
  const toggle = h('button', { type: 'button', 'aria-expanded': String(open), onclick: () => {
    if (state.openActions.has(a.id)) state.openActions.delete(a.id); else state.openActions.add(a.id);
    refreshDetail();
  } }, open ? 'Hide messages' : 'Messages');
  const buttons = [toggle];
  if (active && a.status !== 'canceling') buttons.push(h('button', { type: 'button', class: 'danger', onclick: () => cancel(base, a, false) }, 'Cancel'));
  if (a.status === 'canceling') buttons.push(h('button', { type: 'button', class: 'danger', onclick: () => cancel(base, a, true) }, 'Force cancel'));
  const row = h('tr', { dataset: { action: String(a.id), status: a.status } },
    h('td', {}, `#${a.id}`), h('td', {}, setOf(a)), h('td', {}, a.forceType || a.type || ''),
    h('td', {}, h('span', { class: `pill pill-${a.status}` }, a.status)), h('td', {}, when(a.lastModifiedAt || a.createdAt)),
    h('td', { class: 'buttons' }, buttons));
  if (!open) return [row];
  let messages;
  try {
    const page = await get(`${base}/actions/${a.id}/status${qs({ limit: 50, sort: 'id:DESC' })}`);
    messages = h('ol', { class: 'messages' }, page.content.map(s =>
      h('li', {}, h('span', { class: `pill pill-${s.type}` }, s.type), ' ', h('time', {}, when(s.reportedAt || s.timestamp)),
        (s.messages || []).length ? h('ul', {}, s.messages.map(m => h('li', {}, m))) : null)));
  } catch (err) {
    messages = h('p', { class: 'form-error' }, errorText(err));
  }
  return [row, h('tr', { class: 'messages-row' }, h('td', { colspan: 6 }, messages))];
}

async function cancel(base, action, force) {
  const ok = await modal(force ? `Force cancel action #${action.id}?` : `Cancel action #${action.id}?`, (close) => h('div', {},
    h('p', {}, force ? 'The action is closed now, without waiting for the device to confirm.'
      : 'The device is asked to cancel; the action closes once it confirms.'),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => close(false) }, 'Keep it'),
      h('button', { type: 'button', class: 'danger', onclick: () => close(true) }, force ? 'Force cancel' : 'Cancel action'))));
  if (!ok) return;
  try {
    await request('DELETE', `${base}/actions/${action.id}${force ? '?force=true' : ''}`);
    toast(force ? `Action #${action.id} force-canceled.` : `Action #${action.id}: cancel requested.`);
  } catch (err) {
    toast(`Cancel failed: ${errorText(err)}`, 'error');
  }
  refreshTargets();
  refreshDetail();
}
