// Upload view: software modules and distribution sets created here; artifacts go straight to S3 through the
// presigned upload session (POST .../uploads, PUT the bytes with progress, POST .../complete), hashes shown.
import { MGMT, get, post, request, qs, putWithProgress } from './api.js';
import { h, toast, bytes, field, section, errorText } from './ui.js';

export const TITLE = 'Upload';
let state = null;

export async function render(main, args) {
  const mine = { smId: null };
  state = mine;
  state.modules = h('ul', { class: 'list', id: 'software-modules', 'aria-label': 'Software modules' });
  state.sets = h('ul', { class: 'list', id: 'upload-sets', 'aria-label': 'Distribution sets' });
  state.detail = h('div', { id: 'module-detail' });
  const [smTypes, dsTypes] = await Promise.all([
    get(`${MGMT}/softwaremoduletypes${qs({ limit: 100 })}`), get(`${MGMT}/distributionsettypes${qs({ limit: 100 })}`)]);
  if (state !== mine) return undefined; // left while loading
  state.dsModules = h('fieldset', { class: 'module-choice' }, h('legend', {}, 'Modules'));
  main.append(h('div', { class: 'two-col' },
    h('div', { class: 'stack' },
      section('Software modules', moduleForm(smTypes.content), state.modules),
      section('Distribution sets', setForm(dsTypes.content), state.sets)),
    h('section', { class: 'panel', 'aria-label': 'Software module' }, state.detail)));
  await refreshLists();
  if (state !== mine) return undefined;
  update(args);
  return () => { if (state === mine) state = null; };
}

export function update(args) {
  state.smId = args[0] === 'sm' && args[1] ? Number(args[1]) : null;
  for (const a of state.modules.querySelectorAll('a')) a.setAttribute('aria-current', String(Number(a.dataset.sm) === state.smId));
  refreshDetail();
}

function options(types) {
  return types.map(t => h('option', { value: t.key }, `${t.name} (${t.key})`));
}

function moduleForm(types) {
  const name = h('input', { name: 'sm-name', required: true });
  const version = h('input', { name: 'sm-version', required: true });
  const type = h('select', { name: 'sm-type' }, options(types));
  const form = h('form', { class: 'inline-form', 'aria-label': 'New software module' },
    field('Module name', name), field('Module version', version), field('Module type', type),
    h('button', { type: 'submit', class: 'primary' }, 'Create module'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const [sm] = await post(`${MGMT}/softwaremodules`, [{ name: name.value.trim(), version: version.value.trim(), type: type.value }]);
      toast(`Software module ${sm.name}:${sm.version} created.`);
      form.reset();
      await refreshLists();
      location.hash = `#/upload/sm/${sm.id}`;
    } catch (err) { toast(`Could not create the module: ${errorText(err)}`, 'error'); }
  });
  return form;
}

function setForm(types) {
  const name = h('input', { name: 'ds-name', required: true });
  const version = h('input', { name: 'ds-version', required: true });
  const type = h('select', { name: 'ds-type' }, options(types));
  const form = h('form', { 'aria-label': 'New distribution set' },
    h('div', { class: 'inline-form' }, field('Set name', name), field('Set version', version), field('Set type', type)),
    state.dsModules, h('button', { type: 'submit', class: 'primary' }, 'Create set'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const modules = [...state.dsModules.querySelectorAll('input:checked')].map(c => ({ id: Number(c.value) }));
    try {
      const [ds] = await post(`${MGMT}/distributionsets`, [{ name: name.value.trim(), version: version.value.trim(), type: type.value, modules }]);
      toast(`Distribution set ${ds.name}:${ds.version} created${ds.complete === false ? ' (incomplete: its type needs other modules)' : ''}.`);
      form.reset();
      await refreshLists();
    } catch (err) { toast(`Could not create the set: ${errorText(err)}`, 'error'); }
  });
  return form;
}

async function refreshLists() {
  const [modules, sets] = await Promise.all([get(`${MGMT}/softwaremodules${qs({ limit: 200, sort: 'id:DESC' })}`),
    get(`${MGMT}/distributionsets${qs({ limit: 200, sort: 'id:DESC' })}`)]);
  if (!state) return;
  state.modules.replaceChildren(...modules.content.map(sm => h('li', {},
    h('a', { href: `#/upload/sm/${sm.id}`, dataset: { sm: String(sm.id) }, 'aria-current': String(sm.id === state.smId) }, `${sm.name}:${sm.version}`),
    ' ', h('span', { class: 'muted' }, sm.type))));
  if (!modules.content.length) state.modules.append(h('li', { class: 'muted' }, 'No software modules yet.'));
  state.dsModules.replaceChildren(h('legend', {}, 'Modules'), ...modules.content.map(sm =>
    h('label', { class: 'radio' }, h('input', { type: 'checkbox', value: String(sm.id) }), `${sm.name}:${sm.version} (${sm.type})`)));
  state.sets.replaceChildren(...sets.content.map(ds => h('li', { dataset: { set: String(ds.id) } },
    h('strong', {}, ds.name), ` ${ds.version} `, h('span', { class: 'muted' },
      `${ds.type}; ${(ds.modules || []).map(m => `${m.name}:${m.version}`).join(', ') || 'no modules'}${ds.complete === false ? '; incomplete' : ''}`))));
  if (!sets.content.length) state.sets.append(h('li', { class: 'muted' }, 'No distribution sets yet.'));
}

async function refreshDetail() {
  const id = state.smId;
  if (!id) {
    state.detail.replaceChildren(h('h2', {}, 'Artifacts'), h('p', { class: 'muted' }, 'Choose or create a software module to upload its artifacts.'));
    return;
  }
  let sm, artifacts;
  try {
    [sm, artifacts] = await Promise.all([get(`${MGMT}/softwaremodules/${id}`), get(`${MGMT}/softwaremodules/${id}/artifacts`)]);
  } catch (err) {
    state.detail.replaceChildren(h('p', { class: 'form-error' }, errorText(err)));
    return;
  }
  if (!state || state.smId !== id) return;
  const list = Array.isArray(artifacts) ? artifacts : (artifacts.content || []);
  const file = h('input', { type: 'file', name: 'artifact' });
  const progress = h('progress', { id: 'upload-progress', max: 100, value: 0, 'aria-label': 'Upload progress' });
  const percent = h('span', { id: 'upload-percent', 'aria-live': 'polite' });
  const result = h('div', { id: 'upload-result' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Upload');
  const form = h('form', { 'aria-label': 'Upload an artifact' }, field('Artifact file', file, 'Sent straight to the artifact bucket, then hashed by skyhawk'),
    h('div', { class: 'inline-form' }, button), h('div', { class: 'progress-line' }, progress, percent), result);
  progress.hidden = true;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!file.files.length) { toast('Choose a file first.', 'error'); return; }
    button.disabled = true;
    progress.hidden = false;
    try {
      const artifact = await uploadDirect(id, file.files[0], (loaded, total) => {
        progress.value = Math.floor((loaded / total) * 100);
        percent.textContent = loaded < total ? `${progress.value} % (${bytes(loaded)} of ${bytes(total)})`
          : `100 % sent (${bytes(total)}): skyhawk is checking it…`;
      });
      progress.value = 100;
      percent.textContent = `100 %: ${artifact.providedFilename} added`;
      result.replaceChildren(hashes(artifact));
      toast(`${artifact.providedFilename} uploaded.`);
      refreshArtifacts(id, table);
    } catch (err) {
      percent.textContent = `Upload failed: ${errorText(err)}`;
    } finally {
      button.disabled = false;
    }
  });
  const table = h('table', { id: 'artifacts' });
  fillArtifacts(table, list);
  state.detail.replaceChildren(h('h2', {}, `${sm.name}:${sm.version}`, ' ', h('span', { class: 'muted' }, sm.type)),
    h('h3', {}, 'Artifacts'), table, h('h3', {}, 'Upload'), form);
}

async function refreshArtifacts(id, table) {
  const artifacts = await get(`${MGMT}/softwaremodules/${id}/artifacts`);
  fillArtifacts(table, Array.isArray(artifacts) ? artifacts : (artifacts.content || []));
}

function fillArtifacts(table, list) {
  table.replaceChildren(h('thead', {}, h('tr', {}, ['File', 'Size', 'Hashes'].map(t => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, list.length ? list.map(a => h('tr', { dataset: { artifact: a.providedFilename } },
      h('td', {}, a.providedFilename), h('td', {}, bytes(a.size)), h('td', {}, hashes(a))))
      : h('tr', {}, h('td', { colspan: 3, class: 'muted' }, 'No artifacts yet.'))));
}

function hashes(a) {
  const sums = a.hashes || {};
  return h('dl', { class: 'facts hashes' }, ['sha256', 'sha1', 'md5'].filter(k => sums[k]).map(k => [h('dt', {}, k), h('dd', { dataset: { hash: k } }, sums[k])]));
}

async function sha256Hex(file) {
  if (!(window.crypto && crypto.subtle)) return undefined; // not a secure context: skyhawk hashes anyway
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return [...new Uint8Array(digest)].map(b => b.toString(16).padStart(2, '0')).join('');
}

async function uploadDirect(smId, file, onProgress) {
  const session = await post(`${MGMT}/softwaremodules/${smId}/uploads`, { filename: file.name });
  const [, sha256sum] = await Promise.all([putWithProgress(session.uploadUrl, file, onProgress), sha256Hex(file)]);
  const complete = (session._links && session._links.complete && session._links.complete.href)
    || `${MGMT}/softwaremodules/${smId}/uploads/${session.uploadId}/complete`;
  return request('POST', complete, { body: sha256sum ? { sha256sum } : {} });
}
