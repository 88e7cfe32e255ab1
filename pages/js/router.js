// router.js — hash routes (#/learn/courses/9?tab=x) to views.
//
// A view is a module object { path, title, roles, nav?, render(ctx) } (see views/index.js).
// `path` may hold :params; the query part of the hash is handed to the view as `query`.
// Hash routes need nothing from the server: every page is the one index.html.

const routes = [];

/** Register a view under its path pattern. */
export function addRoute(view) {
  const names = [];
  const source = view.path.replace(/:([a-z]+)/g, (_, name) => { names.push(name); return '([^/]+)'; });
  routes.push({ view, names, re: new RegExp(`^${source}$`) });
}

/** The current hash split into path and query. */
export function currentLocation() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, qs = ''] = raw.split('?');
  return { path: path || '/', query: Object.fromEntries(new URLSearchParams(qs)) };
}

/** The view and params for a path, or null. */
export function resolve(path) {
  for (const r of routes) {
    const m = r.re.exec(path);
    if (m) {
      const params = {};
      r.names.forEach((n, i) => { params[n] = decodeURIComponent(m[i + 1]); });
      return { view: r.view, params };
    }
  }
  return null;
}

/** A hash link: href('/boards', {window: 'week'}) → '#/boards?window=week'. */
export function href(path, query) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  }
  const s = qs.toString();
  return `#${path}${s ? `?${s}` : ''}`;
}

/** Go to a path (adds a history entry) or, with replace, swap the current one. */
export function navigate(path, query, { replace = false } = {}) {
  const target = href(path, query);
  if (replace) {
    history.replaceState(null, '', target);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else if (location.hash === target) {
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = target;
  }
}
