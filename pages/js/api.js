// api.js — the one door to the REST API (/api/v1, see gateway/openapi.json).
//
// Every page talks to the server through `api()`: JSON in, JSON out, the session travels in
// the HttpOnly `access_token` cookie that POST /auth/login sets (no token is ever visible to
// JavaScript). A non-2xx answer is thrown as an ApiError carrying the problem+json document,
// so a view can show its `detail` and field `errors` as they are. A 401 on any call but the
// sign-in itself means the session ended: the handler set by the app sends the user to the
// sign-in page.

export const API_BASE = '/api/v1';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || 'error';
    this.title = problem.title || 'Error';
    this.detail = problem.detail || '';
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.retryAfter = problem.retryAfter || null;
  }
}

let onUnauthenticated = null;

/** Called with the ApiError when a signed-in call answers 401. */
export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn;
}

/**
 * Call one route. `query` values that are undefined, null or '' are left out.
 * Options: method, body (sent as JSON), query, signal, keepalive, signIn (a 401 is an
 * answer to show, not an ended session).
 */
export async function api(path, { method = 'GET', body, query, signal, keepalive, signIn = false } = {}) {
  const url = new URL(API_BASE + path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
  }
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin', signal, keepalive };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, {
      code: 'network_error', title: 'No connection',
      detail: 'The server could not be reached. Check the connection and try again.',
    });
  }
  // the body is always read, even when empty: an unread one keeps the request open
  const text = await res.text();
  if (res.status === 204 || res.status === 304) return null;
  const type = res.headers.get('Content-Type') || '';
  let data = text;
  if (type.includes('json')) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (res.ok) return data;
  const problem = data && typeof data === 'object'
    ? data : { title: res.statusText, detail: `The server answered ${res.status}.` };
  problem.retryAfter = res.headers.get('Retry-After');
  const err = new ApiError(res.status, problem);
  if (res.status === 401 && !signIn && onUnauthenticated) onUnauthenticated(err);
  throw err;
}
