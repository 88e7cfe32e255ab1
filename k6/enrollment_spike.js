// enrollment_spike: a cohort enrolling at the same minute. setup() has an instructor create and
// publish a fresh course with SEATS seats (default 150); then LEARNERS_SPIKE learners (default
// 200) log in, wait for the same instant and POST /courses/{id}/enroll together.
// Every answer must be 201 or 409 course_full, never a 5xx; exactly SEATS enrollments succeed;
// afterwards the course shows enrollment_count = SEATS and seats_left = 0 (teardown checks it).
//
// PROFILE: baseline 200 learners / 150 seats; stress 1,000 / 500; spike 2,000 / 1,000; soak runs
// the baseline wave WAVES times (default 10), each on a fresh course.
import http from 'k6/http';
import { check, sleep } from 'k6';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';
import {
  API, PROFILE, INSTRUCTORS, LOGIN_WAIT, thresholds, staffSession, learnerSession, instructorEmail, get, post, json,
} from './lib/config.js';

const PRESET = {
  baseline: [200, 150, 1],
  stress: [1000, 500, 1],
  spike: [2000, 1000, 1],
  soak: [200, 150, Number(__ENV.WAVES || 10)],
}[PROFILE];
if (PRESET === undefined) throw new Error(`unknown PROFILE "${PROFILE}" (baseline, stress, soak, spike)`);
const LEARNERS_SPIKE = Number(__ENV.LEARNERS_SPIKE || PRESET[0]);
const SEATS = Number(__ENV.SEATS || PRESET[1]);
const WAVES = PRESET[2];
// time the learners have to log in before the common instant
const GATHER_SECONDS = Number(__ENV.GATHER_SECONDS || 20);
// learners of this run: learner<OFFSET+1> ... learner<OFFSET+LEARNERS_SPIKE*WAVES>; LEARNERS must
// cover them (a learner counted twice would get the idempotent 200)
const OFFSET = Number(__ENV.OFFSET || 0);

export const options = {
  scenarios: {
    cohort: {
      executor: 'per-vu-iterations',
      vus: LEARNERS_SPIKE,
      iterations: WAVES,
      maxDuration: `${WAVES * (GATHER_SECONDS + 60)}s`,
      exec: 'enroll',
    },
  },
  // the instructor's login may wait out the gateway's login limit (up to LOGIN_WAIT s)
  setupTimeout: `${LOGIN_WAIT + 60 + WAVES * 10}s`,
  thresholds: thresholds({
    // 409 course_full is an expected answer here, see responseCallback below
    'http_req_duration{route:POST /courses/:id/enroll}': [`p(95)<${Number(__ENV.ENROLL_P95_MS || 1000)}`],
    enroll_created: [`count==${Math.min(SEATS, LEARNERS_SPIKE) * WAVES}`],
    enroll_server_errors: ['count==0'],
    checks: ['rate==1.0'],
  }),
};

const created = new Counter('enroll_created');
const full = new Counter('enroll_course_full');
const serverErrors = new Counter('enroll_server_errors');

// One fresh course per wave: an instructor creates it with SEATS seats, one module, one lesson,
// and publishes it. Returns the course ids and the instant each wave fires. The instructor is a
// pooled session (STAFF_TOKENS_FILE) or logs in, waiting out a 429 by its Retry-After.
export function setup() {
  const n = 1 + Math.floor(Math.random() * INSTRUCTORS);
  const s = staffSession('instructor', n, instructorEmail(n));
  if (s === null) throw new Error('the instructor cannot log in');
  const courses = [];
  for (let w = 0; w < WAVES; w++) {
    const c = post('POST /courses', '/courses', {
      title: `Spike cohort ${Date.now()}-${w}`, summary: 'Created by k6/enrollment_spike.js', capacity: SEATS,
    }, s.token);
    if (c.status !== 201) throw new Error(`course create: ${c.status} ${c.body}`);
    const id = json(c).id;
    const m = post('POST /courses/:id/modules', `/courses/${id}/modules`, { title: 'Week 1' }, s.token);
    const l = post('POST /modules/:id/lessons', `/modules/${json(m).id}/lessons`,
      { title: 'Welcome', kind: 'video', duration_seconds: 60, video_playback_id: 'spike' }, s.token);
    const p = post('POST /courses/:id/publish', `/courses/${id}/publish`, null, s.token);
    if (l.status !== 201 || p.status !== 200) throw new Error(`course setup: lesson ${l.status}, publish ${p.status}`);
    courses.push(id);
  }
  return { courses, start: Date.now() + GATHER_SECONDS * 1000, token: s.token };
}

export function enroll(data) {
  const wave = exec.vu.iterationInScenario;
  const courseId = data.courses[wave];
  const s = learnerSession(OFFSET + exec.vu.idInTest + wave * LEARNERS_SPIKE);
  if (s === null) return;
  // everybody waits for the same instant (each wave GATHER_SECONDS + 30 s after the previous)
  const fireAt = data.start + wave * (GATHER_SECONDS + 30) * 1000;
  const wait = (fireAt - Date.now()) / 1000;
  if (wait > 0) sleep(wait);
  const r = http.post(`${API}/courses/${courseId}/enroll`, null, {
    headers: { Authorization: `Bearer ${s.token}` },
    tags: { route: 'POST /courses/:id/enroll', kind: 'api' },
    responseCallback: http.expectedStatuses(201, 409),
  });
  const b = json(r);
  if (r.status === 201) created.add(1);
  if (r.status === 409) full.add(1);
  if (r.status >= 500) serverErrors.add(1);
  check(r, {
    'enroll answers 201 or 409 course_full': (x) => x.status === 201 || (x.status === 409 && b !== null && b.code === 'course_full'),
    'no 5xx': (x) => x.status < 500,
  });
}

// The seat count is exact: as many enrollments as seats, none left, never more.
export function teardown(data) {
  for (const id of data.courses) {
    const c = json(get('GET /courses/:id', `/courses/${id}`));
    check(c, {
      'seats_left is 0 after the spike': (x) => x !== null && x.seats_left === 0,
      'enrollment_count equals the seats': (x) => x !== null && x.enrollment_count === Math.min(SEATS, LEARNERS_SPIKE),
    });
    // the owner's view agrees: active enrollments in the analytics
    const a = json(get('GET /courses/:id/analytics', `/courses/${id}/analytics`, data.token));
    check(a, { 'analytics count the same enrollments': (x) => x !== null && x.enrollments.active === Math.min(SEATS, LEARNERS_SPIKE) });
  }
}
