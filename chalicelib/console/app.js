// The console: sign-in, hash routes (#/deployment, #/deployment/<target>, #/upload, ...), one view at a time.
import { currentLogin, signIn, signOut } from './api.js';
import { h, field, errorText } from './ui.js';
import * as deployment from './deployment.js';
import * as upload from './upload.js';
import * as configuration from './configuration.js';
import * as fleet from './fleet.js';

const VIEWS = { deployment, upload, configuration, fleet };
const main = document.getElementById('main');
let cleanup = null;
let current = null; // { view, module } on screen
let lastView = null;

function parseHash() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return { view: parts[0] || 'deployment', args: parts.slice(1) };
}

function showChrome(login) {
  document.getElementById('nav').hidden = !login;
  document.getElementById('signout').hidden = !login;
  document.getElementById('who').textContent = login ? `${login.username} @ ${login.tenant}` : '';
}

function signInView(next) {
  const tenant = h('input', { name: 'tenant', autocomplete: 'organization', placeholder: 'DEFAULT' });
  const user = h('input', { name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const message = h('p', { class: 'form-error', role: 'alert' });
  const form = h('form', { class: 'signin panel', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in'),
    h('p', { class: 'muted' }, 'A management login of this service (hawkBit\'s TENANT\\user form: leave the tenant empty for the default one).'),
    field('Tenant', tenant), field('User', user), field('Password', password), message,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    message.textContent = '';
    try {
      const login = await signIn(tenant.value.trim(), user.value.trim(), password.value);
      showChrome(login);
      const target = next && next !== '#/signin' ? next : '#/deployment';
      if (location.hash === target) route(); else location.hash = target; // hashchange routes
    } catch (err) {
      message.textContent = err.status === 401 ? 'Wrong user or password.' : `Sign-in failed: ${errorText(err)}`;
    }
  });
  main.replaceChildren(form);
  user.focus();
}

let pendingNext = null;

async function route() {
  const login = currentLogin();
  const { view, args } = parseHash();
  // Same view, other item (#/deployment/a -> #/deployment/b): the view updates itself, keeping its state.
  if (login && current && current.view === view && current.module.update) {
    current.module.update(args);
    return;
  }
  if (cleanup) { cleanup(); cleanup = null; }
  current = null;
  showChrome(login);
  if (!login || view === 'signin') {
    if (login) { location.hash = '#/deployment'; return; }
    pendingNext = view === 'signin' ? pendingNext : location.hash;
    document.title = 'Sign in · skyhawk console';
    signInView(pendingNext);
    return;
  }
  const module = VIEWS[view];
  if (!module) { location.hash = '#/deployment'; return; }
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  document.title = `${module.TITLE} · skyhawk console`;
  main.replaceChildren();
  try {
    const moved = lastView !== null && lastView !== view;
    current = { view, module };
    lastView = view;
    const rendering = current;
    const done = (await module.render(main, args)) || null;
    if (rendering === current) cleanup = done; else if (done) done(); // left meanwhile: stop it now
    if (moved && rendering === current) main.focus({ preventScroll: true }); // screen readers start at the new view
  } catch (err) {
    // a view left before it finished loading says nothing; the one on screen says what failed
    if (current && current.view === view) main.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, `Could not load: ${errorText(err)}`));
  }
}

document.getElementById('signout').addEventListener('click', () => {
  signOut();
  location.hash = '#/signin';
});
window.addEventListener('skyhawk:signedout', () => route());
window.addEventListener('hashchange', () => route());
route();
