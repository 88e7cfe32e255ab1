// Shared settings and helpers of every k6 scenario. Everything comes from environment variables
// (k6 run -e NAME=value or the process environment), with defaults that match the demo
// (`make demo`) and the generated data (`make bench-data`).
//
//   BASE_URL            gateway root                                  http://127.0.0.1:8080
//   PROFILE             baseline | stress | soak | spike              baseline
//   DURATION            steady-state length of baseline/stress        2m
//   SOAK_DURATION       steady-state length of soak                   30m
//   LEARNERS            accounts learner1..LEARNERS exist             300 (demo); 10000 for SCALE=small
//   INSTRUCTORS         accounts instructor1..INSTRUCTORS exist       3
//   PASSWORD            password of every generated account           password123
//   ADMIN_EMAIL         the admin account                             admin@example.com
//   THINK_MIN/THINK_MAX seconds a person pauses between two pages     1 / 3
//   PROGRESS_INTERVAL   seconds between two progress writes           5
//   P95_MS              p95 threshold in ms                           200
//   PROGRESS_P95_MS     p95 threshold of the progress write           50 (measured, see below)
//   CATALOG_P95_MS      p95 threshold of the catalog routes           50 (measured, see below)
//   ERROR_RATE          failed-request threshold                      0.01
//   TOKENS_FILE         optional pool made by bench/loadtest/pool.sh (absolute path): one line per
//                       learner "user_id<TAB>email<TAB>token<TAB>course_id<TAB>lesson,ids"; VUs then
//                       reuse these tokens instead of logging in (the gateway limits logins per
//                       client, see k6/README.md)
//   STAFF_TOKENS_FILE   the same for instructors and admins (staff.tsv of pool.sh): one line each
//                       "role<TAB>user_id<TAB>email<TAB>token<TAB>course_id<TAB>lesson,ids"
//   LOGIN_WAIT          seconds a login or register may spend waiting out 429s (Retry-After)  90
//   AUTH_P95_MS         p95 threshold of login and register (a bcrypt check each)          1000
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Counter } from 'k6/metrics';

function num(name, dflt) {
  const v = __ENV[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got "${v}"`);
  return n;
}

export const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
export const API = `${BASE_URL}/api/v1`;
export const PROFILE = __ENV.PROFILE || 'baseline';
export const DURATION = __ENV.DURATION || '2m';
export const SOAK_DURATION = __ENV.SOAK_DURATION || '30m';
export const LEARNERS = num('LEARNERS', 300);
export const INSTRUCTORS = num('INSTRUCTORS', 3);
export const PASSWORD = __ENV.PASSWORD || 'password123';
export const ADMIN_EMAIL = __ENV.ADMIN_EMAIL || 'admin@example.com';
export const THINK_MIN = num('THINK_MIN', 1);
export const THINK_MAX = num('THINK_MAX', 3);
export const PROGRESS_INTERVAL = num('PROGRESS_INTERVAL', 5);
export const P95_MS = num('P95_MS', 200);
export const ERROR_RATE = num('ERROR_RATE', 0.01);
// Tightened from what docs/performance.md measured at 100k learners on 2 cores: progress write
// p95 5.8-8.7 ms, catalog list and course page p95 at most 20 ms (at saturation); 50 ms leaves
// room for a busier machine and still catches a regression long before the 200 ms contract.
export const PROGRESS_P95_MS = num('PROGRESS_P95_MS', 50);
export const CATALOG_P95_MS = num('CATALOG_P95_MS', 50);
// Login and register cost a bcrypt check by design (tens of ms of CPU at cost 10): they get their
// own p95 limit, and the general P95_MS applies to every other route.
export const AUTH_P95_MS = num('AUTH_P95_MS', 1000);
export const LOGIN_WAIT = num('LOGIN_WAIT', 90);

// The optional token pool, read once in the init context (open() is only allowed there).
export const TOKEN_POOL = (__ENV.TOKENS_FILE ? open(__ENV.TOKENS_FILE) : '')
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.startsWith('#'))
  .map((l) => {
    const f = l.split('\t');
    return {
      userId: Number(f[0]), email: f[1], token: f[2],
      courseId: f[3] ? Number(f[3]) : null,
      lessonIds: f[4] ? f[4].split(',').map(Number) : [],
    };
  });

// The optional staff pool (instructors and admins), read the same way.
export const STAFF_POOL = (__ENV.STAFF_TOKENS_FILE ? open(__ENV.STAFF_TOKENS_FILE) : '')
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.startsWith('#'))
  .map((l) => {
    const f = l.split('\t');
    return { role: f[0], userId: Number(f[1]), email: f[2], token: f[3], courseId: f[4] ? Number(f[4]) : null };
  });

export const learnerEmail = (n) => `learner${n}@example.com`;
export const instructorEmail = (n) => `instructor${n}@example.com`;

// A person pausing between two pages.
export function think(min = THINK_MIN, max = THINK_MAX) {
  sleep(min + Math.random() * Math.max(0, max - min));
}

export function headers(token, extra = {}) {
  const h = Object.assign({ 'Content-Type': 'application/json', Accept: 'application/json' }, extra);
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

const AUTH_ROUTES = ['POST /auth/login', 'POST /auth/register'];

// Request params: a metrics tag per route (the pattern, not the URL, so ids do not explode the
// number of series), a `kind` tag (auth: login and register, a bcrypt check each; api: the rest)
// and, when given, the statuses that count as expected for http_req_failed. A request without a
// token is sent with an empty cookie jar: the gateway also accepts the access_token cookie that
// login sets, and an anonymous request must stay anonymous after the VU has logged in.
export function params(route, token, expected) {
  const p = { headers: headers(token), tags: { route, kind: AUTH_ROUTES.includes(route) ? 'auth' : 'api' } };
  if (!token) p.jar = new http.CookieJar();
  if (expected) p.responseCallback = http.expectedStatuses(...expected);
  return p;
}

// Seconds to wait before retrying a 429: its Retry-After (delta-seconds or an HTTP date), else an
// exponential backoff (1, 2, 4 ... 30 s) by attempt; plus up to a second of jitter so that VUs
// throttled together do not all come back at the same instant.
export function retryAfter(res, attempt = 0) {
  const h = res.headers['Retry-After'] || res.headers['retry-after'];
  let s = NaN;
  if (h !== undefined) {
    s = /^\s*\d+\s*$/.test(h) ? Number(h) : (Date.parse(h) - Date.now()) / 1000;
  }
  if (!Number.isFinite(s) || s < 0) s = Math.min(30, 2 ** attempt);
  return s + Math.random();
}

export function json(res) {
  try {
    return res.json();
  } catch (e) {
    return null;
  }
}

export function get(route, path, token, expected) {
  return http.get(`${API}${path}`, params(route, token, expected));
}

export function post(route, path, body, token, expected) {
  return http.post(`${API}${path}`, body === null ? null : JSON.stringify(body), params(route, token, expected));
}

export function patch(route, path, body, token, expected) {
  return http.patch(`${API}${path}`, JSON.stringify(body), params(route, token, expected));
}

// A login or register that waits out the gateway's limit: every 429 is followed by a pause of its
// Retry-After (never a new attempt before it), and retried while the pauses so far stay under
// LOGIN_WAIT seconds; then the 429 is returned (a 429 is an expected answer here, counted in
// auth_throttled). `expected` lists the other statuses that are not failures.
const authThrottled = new Counter('auth_throttled');
export function authPost(route, path, body, expected = [200, 201]) {
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    const res = post(route, path, body, null, expected.concat([429]));
    if (res.status !== 429) return res;
    authThrottled.add(1);
    const wait = retryAfter(res, attempt);
    sleep(wait);
    waited += wait;
    if (waited >= LOGIN_WAIT) return res;
  }
}

// POST /auth/login; returns { token, user } or null (and fails a check).
export function login(email, password = PASSWORD) {
  const res = authPost('POST /auth/login', '/auth/login', { email, password });
  const body = json(res);
  const ok = check(res, {
    'login 200': (r) => r.status === 200,
    'login has a bearer token': () => body !== null && typeof body.access_token === 'string' && body.token_type === 'bearer',
  });
  return ok ? { token: body.access_token, user: body.user } : null;
}

// A learner's session: the n-th pooled token when a pool was given, else a real login of
// learner<n>. n is 1-based and wraps around the pool / the LEARNERS accounts.
export function learnerSession(n) {
  if (TOKEN_POOL.length > 0) {
    const t = TOKEN_POOL[(n - 1) % TOKEN_POOL.length];
    return { token: t.token, user: { id: t.userId, email: t.email }, courseId: t.courseId, lessonIds: t.lessonIds };
  }
  return login(learnerEmail(1 + ((n - 1) % LEARNERS)));
}

// An instructor's or the admin's session: the n-th pooled one of that role when STAFF_TOKENS_FILE
// holds any (courseId: a published course of theirs), else a real login. null when the login
// failed; the caller pauses before it tries again.
export function staffSession(role, n, email) {
  const mine = STAFF_POOL.filter((s) => s.role === role);
  if (mine.length > 0) {
    const t = mine[(n - 1) % mine.length];
    return { token: t.token, user: { id: t.userId, email: t.email }, courseId: t.courseId };
  }
  return login(email);
}

export function pick(list) {
  return list[Math.floor(Math.random() * list.length)];
}

// Thresholds every scenario starts from: p95 under P95_MS and under ERROR_RATE failed requests.
export function thresholds(extra = {}) {
  return Object.assign(
    {
      'http_req_duration{kind:api}': [`p(95)<${P95_MS}`],
      'http_req_duration{kind:auth}': [`p(95)<${AUTH_P95_MS}`],
      http_req_failed: [`rate<${ERROR_RATE}`],
      checks: ['rate>0.99'],
    },
    extra,
  );
}

// The load shape of one scenario for the chosen PROFILE, around `vus` virtual users:
//   baseline  constant `vus` for DURATION
//   stress    ramps to 1x, 2x and 3x `vus` (each step held for DURATION), then down
//   soak      constant `vus` for SOAK_DURATION
//   spike     a tenth of `vus`, up to 3x `vus` in 10 s, held 1 min, back down in 10 s
export function shape(vus, exec, profile = PROFILE) {
  const base = { exec, gracefulStop: '30s' };
  const low = Math.max(1, Math.round(vus / 10));
  switch (profile) {
    case 'baseline':
      return Object.assign(base, { executor: 'constant-vus', vus, duration: DURATION });
    case 'soak':
      return Object.assign(base, { executor: 'constant-vus', vus, duration: SOAK_DURATION });
    case 'stress':
      return Object.assign(base, {
        executor: 'ramping-vus',
        startVUs: low,
        gracefulRampDown: '30s',
        stages: [
          { duration: '30s', target: vus }, { duration: DURATION, target: vus },
          { duration: '30s', target: 2 * vus }, { duration: DURATION, target: 2 * vus },
          { duration: '30s', target: 3 * vus }, { duration: DURATION, target: 3 * vus },
          { duration: '30s', target: 0 },
        ],
      });
    case 'spike':
      return Object.assign(base, {
        executor: 'ramping-vus',
        startVUs: low,
        gracefulRampDown: '30s',
        stages: [
          { duration: '30s', target: low }, { duration: '10s', target: 3 * vus },
          { duration: '1m', target: 3 * vus }, { duration: '10s', target: low },
          { duration: '30s', target: low }, { duration: '10s', target: 0 },
        ],
      });
    default:
      throw new Error(`unknown PROFILE "${profile}" (baseline, stress, soak, spike)`);
  }
}
