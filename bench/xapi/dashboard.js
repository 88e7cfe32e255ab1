// The learner's home page: GET /me/dashboard (one call) against the four calls it replaces
// (/users/me, /enrollments/me?status=active, /gamification/me, /progress/courses/{id} of the
// course to continue), one after the other in ONE run with the same learners and connections,
// so the two are measured side by side. bench/dashboard.sh runs it and prints the figures.
//   k6 run -e BASE_URL=... -e TOKENS=tok1,tok2,... -e COURSES=c1,c2,... -e VUS=16 -e SECONDS=20 bench/xapi/dashboard.js
import http from 'k6/http';
import { check } from 'k6';

const BASE = __ENV.BASE_URL || 'http://127.0.0.1:8080';
const TOKENS = (__ENV.TOKENS || '').split(',').filter(Boolean);
const COURSES = (__ENV.COURSES || '').split(',');
const VUS = parseInt(__ENV.VUS || '16', 10);
const SECONDS = parseInt(__ENV.SECONDS || '20', 10);

export const options = {
  discardResponseBodies: false,
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(95)', 'p(99)'],
  scenarios: {
    dashboard: { executor: 'constant-vus', exec: 'dashboard', vus: VUS, duration: SECONDS + 's' },
    four_calls: { executor: 'constant-vus', exec: 'fourCalls', vus: VUS, duration: SECONDS + 's',
                  startTime: (SECONDS + 2) + 's' },
  },
  // thresholds name the per-scenario figures so the summary export carries them
  thresholds: {
    'iteration_duration{scenario:dashboard}': ['p(99)<60000'],
    'iteration_duration{scenario:four_calls}': ['p(99)<60000'],
    'http_req_duration{scenario:dashboard}': ['p(99)<60000'],
    'http_req_duration{scenario:four_calls}': ['p(99)<60000'],
    'iterations{scenario:dashboard}': ['count>0'],
    'iterations{scenario:four_calls}': ['count>0'],
    'checks': ['rate>0.99'],
  },
};

function who() {
  const i = (__VU * 7919 + __ITER) % TOKENS.length;
  return { token: TOKENS[i], course: COURSES[i] };
}

export function dashboard() {
  const { token } = who();
  const r = http.get(`${BASE}/api/v1/me/dashboard`, { headers: { Authorization: `Bearer ${token}` } });
  check(r, { 'dashboard 200': (x) => x.status === 200 });
}

export function fourCalls() {
  const { token, course } = who();
  const h = { headers: { Authorization: `Bearer ${token}` } };
  const rs = [http.get(`${BASE}/api/v1/users/me`, h),
              http.get(`${BASE}/api/v1/enrollments/me?status=active&limit=100`, h),
              http.get(`${BASE}/api/v1/gamification/me`, h),
              http.get(`${BASE}/api/v1/progress/courses/${course}`, h)];
  check(rs, { 'four 200': (x) => x.every((r) => r.status === 200) });
}
