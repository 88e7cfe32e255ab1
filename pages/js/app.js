// app.js — the shell: navigation by role, the signed-in user, and one view at a time.
//
// Views are registered in views/index.js; each renders into <main> and may return a cleanup
// function (timers, a last progress write) that runs when the user navigates away. After each
// navigation the view's heading takes the focus, so keyboard and screen-reader users start
// reading the new page at its top.

import { api, setUnauthenticatedHandler } from './api.js';
import { addRoute, currentLocation, navigate, resolve } from './router.js';
import { allowed, homeFor, loadUser, session, setUser, signOut } from './session.js';
import { fill, h, problemBox, toast } from './ui.js';
import views from './views/index.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
let cleanup = null;
let generation = 0;
let firstRender = true;

views.forEach(addRoute);

function drawChrome(path) {
  const user = session.user;
  const items = views.filter((v) => v.nav && allowed(v.roles, user) && (user || !v.roles))
    .sort((a, b) => a.nav.order - b.nav.order);
  fill(nav, items.map((v) => h('a', {
    href: `#${v.nav.path || v.path}`,
    'aria-current': path === (v.nav.path || v.path) || path.startsWith(`${v.nav.path || v.path}/`) ? 'page' : false,
  }, v.nav.label)));
  fill(who, user
    ? [h('span', { class: 'who-name' }, user.display_name, h('span', { class: 'muted' }, ` · ${user.role}`)),
      h('button', { type: 'button', class: 'btn btn-quiet', id: 'signout', onclick: onSignOut }, 'Sign out')]
    : h('a', { class: 'btn', href: '#/signin' }, 'Sign in'));
}

async function onSignOut() {
  try {
    await signOut();
  } catch (err) {
    toast(`Signing out failed: ${err.detail || err.message}`, { kind: 'error' });
  }
  navigate('/signin');
}

async function render() {
  const { path, query } = currentLocation();
  const gen = ++generation;
  if (cleanup) {
    const done = cleanup;
    cleanup = null;
    try { done(); } catch (err) { toast(err.message, { kind: 'error' }); }
  }
  if (path === '/') {
    navigate(homeFor(session.user), {}, { replace: true });
    return;
  }
  drawChrome(path);
  const found = resolve(path);
  if (!found) {
    document.title = 'Not found · lms';
    fill(main, h('h1', {}, 'Page not found'), h('p', {}, 'There is no page at this address. ', h('a', { href: '#/' }, 'Go to the start page')));
    focusHeading();
    return;
  }
  const { view, params } = found;
  if (view.roles && !session.user) {
    navigate('/signin', { next: location.hash.slice(1) }, { replace: true });
    return;
  }
  if (!allowed(view.roles)) {
    document.title = 'Not allowed · lms';
    fill(main, h('h1', {}, view.title), problemBox({ title: 'Not for this account', detail: `This page is for ${view.roles.join(' or ')} accounts.` }));
    focusHeading();
    return;
  }
  document.title = `${view.title} · lms`;
  fill(main);
  const ctx = {
    main, params, query, user: session.user,
    alive: () => gen === generation,
    setTitle: (t) => { if (gen === generation) document.title = `${t} · lms`; },
  };
  try {
    const done = await view.render(ctx);
    if (gen === generation) cleanup = typeof done === 'function' ? done : null;
    else if (typeof done === 'function') done();
  } catch (err) {
    if (gen !== generation) return;
    if (err.status === 401) return; // the unauthenticated handler has moved on
    main.append(problemBox(err));
  }
  if (gen === generation) focusHeading();
}

function focusHeading() {
  if (firstRender) { firstRender = false; return; }
  if (main.contains(document.activeElement) && document.activeElement !== main) return; // the view chose
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: false });
  }
}

setUnauthenticatedHandler(() => {
  // several calls of one page may answer 401 together: the first one moves to sign-in
  if (currentLocation().path === '/signin') return;
  const wasSignedIn = !!session.user;
  setUser(null);
  navigate('/signin', { next: location.hash.slice(1), why: wasSignedIn ? 'expired' : undefined }, { replace: true });
});

async function boot() {
  if (loadUser()) {
    try {
      setUser(await api('/users/me'));
    } catch (err) {
      if (err.status !== 401) toast(`Could not check the session: ${err.detail || err.message}`, { kind: 'error' });
    }
  }
  window.addEventListener('hashchange', render);
  document.getElementById('booting')?.remove();
  render();
}

boot();
