// Fleet view: targets by RSQL with the count they match (saved as target filters), tags, target types, rollouts
// with their groups' progress, the tenant's configuration and its quotas (used vs limit).
import { MGMT, get, post, put, request, qs } from './api.js';
import { h, toast, when, bytes, field, section, errorText } from './ui.js';

export const TITLE = 'Fleet';
const REFRESH_MS = 3000;
const STATES = ['finished', 'running', 'error', 'scheduled', 'notstarted', 'cancelled'];
let state = null;

export async function render(main) {
  const mine = { timer: null, open: new Set() };
  state = mine;
  state.filters = h('ul', { class: 'list', id: 'target-filters' });
  state.tags = h('ul', { class: 'list', id: 'target-tags' });
  state.types = h('ul', { class: 'list', id: 'target-types' });
  state.rollouts = h('div', { id: 'rollouts' });
  state.config = h('div', { id: 'tenant-config' });
  state.quotas = h('div', { id: 'quotas' });
  const rollouts = await rolloutForm();
  if (state !== mine) return undefined; // left while loading
  main.append(h('div', { class: 'fleet-grid' },
    section('Target search', searchForm(), h('h3', {}, 'Saved filters'), state.filters),
    section('Rollouts', rollouts, state.rollouts),
    section('Target tags', tagForm(), state.tags),
    section('Target types', typeForm(), state.types),
    section('Tenant configuration', state.config),
    section('Quotas', state.quotas)));
  await Promise.all([refreshFilters(), refreshTags(), refreshTypes(), refreshRollouts(), refreshConfig(), refreshQuotas()]);
  if (state !== mine) return undefined;
  mine.timer = setInterval(() => { if (!document.hidden) refreshRollouts(); }, REFRESH_MS);
  return () => { clearInterval(mine.timer); if (state === mine) state = null; };
}

function searchForm() {
  const query = h('input', { name: 'rsql', id: 'rsql', placeholder: 'updateStatus==pending;name==gw-*' });
  const count = h('p', { id: 'rsql-count', 'aria-live': 'polite' });
  const matches = h('ul', { class: 'list', id: 'rsql-matches' });
  const name = h('input', { name: 'filter-name' });
  state.query = query;
  const run = async () => {
    try {
      const page = await get(`${MGMT}/targets${qs({ q: query.value.trim(), limit: 10, sort: 'controllerId:ASC' })}`);
      count.textContent = `${page.total} target${page.total === 1 ? '' : 's'} match`;
      count.className = '';
      matches.replaceChildren(...page.content.map(t => h('li', {}, h('a', { href: `#/deployment/${encodeURIComponent(t.controllerId)}` }, t.controllerId),
        ' ', h('span', { class: 'muted' }, t.updateStatus))), page.total > page.content.length ? h('li', { class: 'muted' }, `… and ${page.total - page.content.length} more`) : '');
    } catch (err) {
      count.textContent = errorText(err);
      count.className = 'form-error';
      matches.replaceChildren();
    }
  };
  const form = h('form', { 'aria-label': 'Target search' },
    h('div', { class: 'inline-form' }, field('RSQL query', query, 'Fields: controllerId, name, updateStatus, tag, targettype.key, attribute.<name>, …'),
      h('button', { type: 'submit', class: 'primary' }, 'Search')), count, matches,
    h('div', { class: 'inline-form' }, field('Filter name', name), h('button', { type: 'button', onclick: async () => {
      try {
        await post(`${MGMT}/targetfilters`, { name: name.value.trim(), query: query.value.trim() });
        toast(`Filter ${name.value.trim()} saved.`);
        name.value = '';
        refreshFilters();
      } catch (err) { toast(`Could not save the filter: ${errorText(err)}`, 'error'); }
    } }, 'Save as filter')));
  form.addEventListener('submit', (e) => { e.preventDefault(); run(); });
  return form;
}

async function refreshFilters() {
  const page = await get(`${MGMT}/targetfilters${qs({ limit: 100 })}`);
  if (!state) return;
  state.filters.replaceChildren(...page.content.map(f => h('li', {},
    h('button', { type: 'button', class: 'link-button', onclick: () => { state.query.value = f.query; state.query.form.requestSubmit(); } }, f.name),
    ' ', h('code', {}, f.query),
    f.autoAssignDistributionSet ? h('span', { class: 'muted' }, ` · auto-assigns set #${f.autoAssignDistributionSet}`) : '')));
  if (!page.content.length) state.filters.append(h('li', { class: 'muted' }, 'No saved filters.'));
}

function tagForm() {
  const name = h('input', { name: 'tag-name', required: true });
  const colour = h('input', { name: 'tag-colour', type: 'color', value: '#0b5cad' });
  const form = h('form', { class: 'inline-form', 'aria-label': 'New target tag' }, field('Tag name', name), field('Tag colour', colour),
    h('button', { type: 'submit' }, 'Create tag'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await post(`${MGMT}/targettags`, [{ name: name.value.trim(), colour: colour.value }]);
      form.reset();
      refreshTags();
    } catch (err) { toast(`Could not create the tag: ${errorText(err)}`, 'error'); }
  });
  return form;
}

function swatch(colour) {
  const s = h('span', { class: 'swatch', 'aria-hidden': 'true' });
  if (colour) s.style.background = colour; // CSSOM, allowed by style-src 'self'
  return s;
}

async function refreshTags() {
  const page = await get(`${MGMT}/targettags${qs({ limit: 100 })}`);
  const counts = await Promise.all(page.content.map(t => get(`${MGMT}/targettags/${t.id}/assigned${qs({ limit: 1 })}`).then(p => p.total).catch(() => '?')));
  if (!state) return;
  state.tags.replaceChildren(...page.content.map((t, i) => h('li', {}, swatch(t.colour), ' ', h('strong', {}, t.name), ' ',
    h('button', { type: 'button', class: 'link-button', onclick: () => { state.query.value = `tag==${t.name}`; state.query.form.requestSubmit(); } },
      `${counts[i]} target${counts[i] === 1 ? '' : 's'}`))));
  if (!page.content.length) state.tags.append(h('li', { class: 'muted' }, 'No tags.'));
}

function typeForm() {
  const name = h('input', { name: 'type-name', required: true });
  const key = h('input', { name: 'type-key' });
  const form = h('form', { class: 'inline-form', 'aria-label': 'New target type' }, field('Type name', name), field('Type key', key),
    h('button', { type: 'submit' }, 'Create type'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { name: name.value.trim() };
    if (key.value.trim()) body.key = key.value.trim();
    try {
      await post(`${MGMT}/targettypes`, [body]);
      form.reset();
      refreshTypes();
    } catch (err) { toast(`Could not create the type: ${errorText(err)}`, 'error'); }
  });
  return form;
}

async function refreshTypes() {
  const page = await get(`${MGMT}/targettypes${qs({ limit: 100 })}`);
  if (!state) return;
  state.types.replaceChildren(...page.content.map(t => h('li', {}, swatch(t.colour), ' ', h('strong', {}, t.name), ' ', h('span', { class: 'muted' }, t.key || ''))));
  if (!page.content.length) state.types.append(h('li', { class: 'muted' }, 'No target types.'));
}

async function rolloutForm() {
  const sets = await get(`${MGMT}/distributionsets${qs({ limit: 200, sort: 'id:DESC' })}`);
  const name = h('input', { name: 'rollout-name', required: true });
  const set = h('select', { name: 'rollout-set' }, sets.content.map(ds => h('option', { value: String(ds.id) }, `${ds.name}:${ds.version}`)));
  const query = h('input', { name: 'rollout-query', required: true, placeholder: 'controllerId==gw-*' });
  const groups = h('input', { name: 'rollout-groups', type: 'number', min: 1, max: 500, value: '2' });
  const threshold = h('input', { name: 'rollout-threshold', type: 'number', min: 0, max: 100, value: '100' });
  const form = h('form', { 'aria-label': 'New rollout' },
    h('div', { class: 'inline-form' }, field('Rollout name', name), field('Distribution set', set)),
    h('div', { class: 'inline-form' }, field('Targets (RSQL)', query), field('Groups', groups), field('Success threshold (%)', threshold)),
    h('button', { type: 'submit' }, 'Create rollout'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await post(`${MGMT}/rollouts`, { name: name.value.trim(), distributionSetId: Number(set.value), targetFilterQuery: query.value.trim(),
        amountGroups: Number(groups.value), successCondition: { condition: 'THRESHOLD', expression: threshold.value } });
      form.reset();
      refreshRollouts();
    } catch (err) { toast(`Could not create the rollout: ${errorText(err)}`, 'error'); }
  });
  return form;
}

function bar(perStatus, total, label) {
  const el = h('div', { class: 'bar', role: 'img', 'aria-label': `${label}: ${STATES.filter(s => perStatus[s]).map(s => `${perStatus[s]} ${s}`).join(', ') || 'no targets'}` });
  for (const s of STATES) {
    if (!perStatus[s] || !total) continue;
    const part = h('span', { class: `b-${s}`, title: `${perStatus[s]} ${s}` });
    part.style.width = `${(100 * perStatus[s]) / total}%`;
    el.append(part);
  }
  return el;
}

async function refreshRollouts() {
  let page;
  try {
    page = await get(`${MGMT}/rollouts${qs({ limit: 50, sort: 'id:DESC' })}`);
  } catch (err) {
    if (state) state.rollouts.replaceChildren(h('p', { class: 'form-error' }, errorText(err)));
    return;
  }
  const groups = await Promise.all(page.content.map(r => (state && state.open.has(r.id)
    ? get(`${MGMT}/rollouts/${r.id}/deploygroups${qs({ representation: 'full', limit: 100 })}`).then(g => g.content).catch(() => [])
    : Promise.resolve(null))));
  if (!state) return;
  const verbs = { ready: 'start', running: 'pause', paused: 'resume' };
  state.rollouts.replaceChildren(...page.content.map((r, i) => {
    const verb = verbs[r.status];
    const toggle = h('button', { type: 'button', 'aria-expanded': String(state.open.has(r.id)), onclick: () => {
      if (state.open.has(r.id)) state.open.delete(r.id); else state.open.add(r.id);
      refreshRollouts();
    } }, state.open.has(r.id) ? 'Hide groups' : 'Groups');
    return h('div', { class: 'rollout', dataset: { rollout: String(r.id), status: r.status } },
      h('div', { class: 'rollout-head' }, h('strong', {}, r.name), h('span', { class: `pill pill-${r.status}` }, r.status),
        h('span', { class: 'muted' }, `${r.totalTargets} target${r.totalTargets === 1 ? '' : 's'}${r.totalGroups ? ` · ${r.totalGroups} groups` : ''}`),
        toggle, verb ? h('button', { type: 'button', onclick: async () => {
          try { await request('POST', `${MGMT}/rollouts/${r.id}/${verb}`); refreshRollouts(); } catch (err) { toast(errorText(err), 'error'); }
        } }, verb[0].toUpperCase() + verb.slice(1)) : ''),
      bar(r.totalTargetsPerStatus || {}, r.totalTargets, r.name),
      groups[i] ? h('ul', { class: 'list groups' }, groups[i].map(g => h('li', { dataset: { group: g.name, status: g.status } },
        h('div', { class: 'rollout-head' }, g.name, h('span', { class: `pill pill-${g.status}` }, g.status), h('span', { class: 'muted' }, `${g.totalTargets} targets`)),
        bar(g.totalTargetsPerStatus || {}, g.totalTargets, g.name)))) : '');
  }));
  if (!page.content.length) state.rollouts.append(h('p', { class: 'muted' }, 'No rollouts yet.'));
}

async function refreshConfig() {
  const configs = await get(`${MGMT}/system/configs`);
  if (!state) return;
  const rows = Object.entries(configs).sort(([a], [b]) => a.localeCompare(b)).map(([key, c]) => {
    const isBool = typeof c.value === 'boolean';
    const input = isBool ? h('input', { type: 'checkbox', checked: c.value, 'aria-label': key })
      : h('input', { value: c.value === null || c.value === undefined ? '' : String(c.value), 'aria-label': key });
    const save = h('button', { type: 'button', onclick: async () => {
      let value = isBool ? input.checked : input.value;
      if (typeof c.value === 'number') value = Number(value);
      try { await put(`${MGMT}/system/configs/${encodeURIComponent(key)}`, { value }); toast(`${key} saved.`); refreshConfig(); } catch (err) { toast(errorText(err), 'error'); }
    } }, 'Save');
    const reset = c.global ? '' : h('button', { type: 'button', onclick: async () => {
      try { await request('DELETE', `${MGMT}/system/configs/${encodeURIComponent(key)}`); toast(`${key}: back to the default.`); refreshConfig(); } catch (err) { toast(errorText(err), 'error'); }
    } }, 'Default');
    return h('tr', { dataset: { key } }, h('th', { scope: 'row' }, h('code', {}, key)), h('td', {}, input),
      h('td', { class: 'muted' }, c.global ? 'default' : `set ${when(c.lastModifiedAt)}`), h('td', { class: 'buttons' }, save, reset));
  });
  state.config.replaceChildren(h('table', {}, h('tbody', {}, rows)));
}

async function refreshQuotas() {
  const quotas = await get(`${MGMT}/system/quota`);
  if (!state) return;
  state.quotas.replaceChildren(h('table', {}, h('tbody', {}, Object.entries(quotas).sort(([a], [b]) => a.localeCompare(b)).map(([name, q]) =>
    h('tr', { dataset: { quota: name } }, h('th', { scope: 'row' }, name),
      h('td', {}, typeof q.used === 'number' ? h('meter', { min: 0, max: q.limit || 1, value: q.used, 'aria-label': `${name}: ${q.used} of ${q.limit}` }) : ''),
      h('td', {}, amount(name, q.used), ' / ', amount(name, q.limit)))))));
}

function amount(name, n) {
  if (typeof n !== 'number') return '—';
  return /STORAGE|SIZE/.test(name) ? bytes(n) : n.toLocaleString();
}
