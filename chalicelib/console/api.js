// The public APIs with the operator's Basic credentials (hawkBit's `TENANT\user` login), kept for this tab only.
export const ROOT = document.documentElement.dataset.root || location.origin;
export const MGMT = `${ROOT}/rest/v1`;
export const DCS = `${ROOT}/api/deviceconfiguration/v3`;
const KEY = 'skyhawk.console.login';

let login = JSON.parse(sessionStorage.getItem(KEY) || 'null');

function base64(text) {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)));
}

export function currentLogin() { return login; }

export function signOut() {
  login = null;
  sessionStorage.removeItem(KEY);
}

export async function signIn(tenant, user, password) {
  const name = tenant ? `${tenant}\\${user}` : user;
  const candidate = { authorization: `Basic ${base64(`${name}:${password}`)}` };
  const who = await request('GET', `${MGMT}/userinfo`, { login: candidate });
  login = { ...candidate, tenant: who.tenant, username: who.username };
  sessionStorage.setItem(KEY, JSON.stringify(login));
  return login;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(messageOf(status, body));
    this.status = status;
    this.body = body;
  }
}

function messageOf(status, body) {
  if (body && typeof body === 'object') {
    if (body.message) return `${status}: ${body.message}`;
    if (Array.isArray(body.errors) && body.errors.length) return `${status}: ${body.errors.map(e => e.message).join('; ')}`;
  }
  return `${status}: ${typeof body === 'string' && body ? body.slice(0, 200) : 'request failed'}`;
}

// fetch with the login; JSON in and out unless `raw` (a string or Blob body sent as is, the text answered).
// credentials: 'omit': the Authorization header is ours, and the browser never shows its own login dialog.
export async function request(method, url, options = {}) {
  const { body, headers = {}, raw = false, login: use = login } = options;
  const init = { method, headers: { Accept: 'application/json', ...headers }, credentials: 'omit', cache: 'no-store' };
  if (use) init.headers.Authorization = use.authorization;
  if (body !== undefined) {
    if (raw) {
      init.body = body;
    } else {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
  }
  if (raw) init.headers.Accept = '*/*';
  const resp = await fetch(url, init);
  const text = await resp.text();
  let parsed = text;
  const type = resp.headers.get('Content-Type') || '';
  if (type.includes('json') && text) {
    try { parsed = JSON.parse(text); } catch { parsed = text; }
  }
  if (resp.status === 401 && use === login && login) {
    signOut();
    window.dispatchEvent(new Event('skyhawk:signedout'));
  }
  if (!resp.ok) throw new ApiError(resp.status, parsed);
  return raw ? { text, headers: resp.headers, status: resp.status } : parsed;
}

export const get = (url) => request('GET', url);
export const post = (url, body) => request('POST', url, { body });
export const put = (url, body) => request('PUT', url, { body });
export const del = (url) => request('DELETE', url);

export function qs(params) {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') search.set(k, v);
  const s = search.toString();
  return s ? `?${s}` : '';
}

// PUT bytes to a presigned URL with upload progress (fetch has none): onProgress(loaded, total).
export function putWithProgress(url, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded, e.total); };
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300
      ? resolve(xhr.status) : reject(new ApiError(xhr.status, xhr.responseText)));
    xhr.onerror = () => reject(new ApiError(0, 'the upload did not reach the bucket (network or CORS)'));
    xhr.send(file);
  });
}
