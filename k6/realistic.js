// realistic: the day of an LMS. Three populations run side by side:
//   students 80 %     log in, browse the catalog, open a course they follow, open a lesson, watch
//                     it with a progress write every PROGRESS_INTERVAL s until it is finished,
//                     then check their points, the leaderboards, their league and group ladder
//   instructors 15 %  log in, list their courses, read a course's analytics and roster, edit a lesson
//   admins 5 %        log in, list users, read the audit trail and the performance page
// VUS (default 100) is the total; PROFILE shapes it (see lib/config.js). WATCH_STEPS (default
// 12, i.e. one minute at 5 s) is how many progress writes one lesson takes from 0 to 100 %.
// Sessions: pooled tokens (TOKENS_FILE for learners, STAFF_TOKENS_FILE for instructors and
// admins), else real logins, which wait out a 429 by its Retry-After; a journey whose login still
// failed pauses a think time before the next one, so a throttled run never spins.
import { check, group, sleep } from 'k6';
import { Counter, Trend } from 'k6/metrics';
import {
  INSTRUCTORS, ADMIN_EMAIL, PROGRESS_INTERVAL, PROGRESS_P95_MS, CATALOG_P95_MS, thresholds, shape, think, learnerSession,
  staffSession, instructorEmail, get, post, patch, json, pick,
} from './lib/config.js';

const VUS = Number(__ENV.VUS || 100);
const WATCH_STEPS = Number(__ENV.WATCH_STEPS || 12);
const students = Math.max(1, Math.round(VUS * 0.8));
const instructors = Math.max(1, Math.round(VUS * 0.15));
const admins = Math.max(1, VUS - students - instructors);

export const options = {
  scenarios: {
    students: shape(students, 'student'),
    instructors: shape(instructors, 'instructor'),
    admins: shape(admins, 'admin'),
  },
  thresholds: thresholds({
    'http_req_duration{route:POST /progress/lessons/:id}': [`p(95)<${PROGRESS_P95_MS}`],
    'http_req_duration{route:GET /courses}': [`p(95)<${CATALOG_P95_MS}`],
    lessons_completed: ['count>0'],
  }),
};

const lessonsCompleted = new Counter('lessons_completed');
const pointsAwarded = new Counter('points_awarded');
const journeyTime = new Trend('student_journey_seconds');
let catalogPages = 1;

const page = (r) => {
  const b = r.status === 200 ? json(r) : null;
  return b !== null && Array.isArray(b.items) ? b.items : [];
};

export function student() {
  const started = Date.now();
  // learners are spread over the accounts: VU v, iteration i -> learner (v * 7919 + i)
  const s = learnerSession(1 + ((__VU * 7919 + __ITER) % 1000003));
  if (s === null) { think(); return; }
  const tok = s.token;

  group('browse', () => {
    // one of the first three pages, as far as the catalog has them
    const r = get('GET /courses', `/courses?page=${1 + Math.floor(Math.random() * Math.min(3, catalogPages))}&limit=20`);
    const b = json(r);
    if (b !== null && typeof b.total === 'number') catalogPages = Math.max(1, Math.ceil(b.total / 20));
    check(r, { 'catalog page 200': (x) => x.status === 200 });
    const items = page(r);
    if (items.length > 0) {
      check(get('GET /courses/:id', `/courses/${pick(items).id}`), { 'course page 200': (x) => x.status === 200 });
    }
  });
  think();

  // a course this learner follows (enrollments/me), or a catalog course they join now
  let courseId = null;
  group('my courses', () => {
    const mine = page(get('GET /enrollments/me', '/enrollments/me?status=active&limit=20', tok));
    if (mine.length > 0) {
      courseId = pick(mine).course_id;
    } else {
      const items = page(get('GET /courses', '/courses?limit=20'));
      if (items.length === 0) return;
      const c = pick(items);
      const r = post('POST /courses/:id/enroll', `/courses/${c.id}/enroll`, null, tok, [200, 201, 403, 409]);
      check(r, { 'enroll 201/200 or a rule (403/409)': (x) => [200, 201, 403, 409].includes(x.status) });
      if (r.status === 200 || r.status === 201) courseId = c.id;
    }
  });
  if (courseId === null) return;

  const course = json(get('GET /courses/:id', `/courses/${courseId}`, tok));
  const progress = json(get('GET /progress/courses/:id', `/progress/courses/${courseId}`, tok));
  if (course === null || !Array.isArray(course.modules)) return;
  const lessons = [].concat(...course.modules.map((m) => m.lessons)).filter((l) => l.kind !== 'quiz');
  if (lessons.length === 0) return;
  // resume where they stopped, else a random lesson
  const lesson = lessons.find((l) => progress && l.id === progress.last_lesson_id) || pick(lessons);
  think();

  group('lesson', () => {
    const r = get('GET /lessons/:id', `/lessons/${lesson.id}`, tok);
    check(r, { 'lesson 200': (x) => x.status === 200 });
    if (r.status !== 200) return;
    const d = Math.max(1, lesson.duration_seconds || 300);
    if (lesson.kind === 'text') {
      think(5, 15);   // reading
      const p = post('POST /progress/lessons/:id', `/progress/lessons/${lesson.id}`,
        { watched_seconds: d, last_position_seconds: d, completion_percentage: 100, completed: true }, tok);
      check(p, { 'text lesson completed': (x) => x.status === 200 && json(x).lesson.is_completed === true });
      if (p.status === 200) pointsAwarded.add(json(p).points_awarded || 0);
      lessonsCompleted.add(1);
      return;
    }
    // a video: one write every PROGRESS_INTERVAL s, from 0 to 100 % in WATCH_STEPS writes
    for (let step = 1; step <= WATCH_STEPS; step++) {
      sleep(PROGRESS_INTERVAL);
      const pct = Math.min(100, Math.round((100 * step) / WATCH_STEPS));
      const sec = Math.floor((d * pct) / 100);
      const p = post('POST /progress/lessons/:id', `/progress/lessons/${lesson.id}`,
        { watched_seconds: sec, last_position_seconds: sec, completion_percentage: pct }, tok);
      check(p, { 'progress 200': (x) => x.status === 200 });
      if (p.status !== 200) return;
      const b = json(p);
      pointsAwarded.add(b.points_awarded || 0);
      if (step === WATCH_STEPS) {
        check(b, { 'video lesson completed': (x) => x.lesson.is_completed === true });
        lessonsCompleted.add(1);
      }
    }
  });
  think();

  group('gamification', () => {
    check(get('GET /gamification/me', '/gamification/me', tok), { 'my points 200': (x) => x.status === 200 });
    check(get('GET /leaderboards/global', '/leaderboards/global?window=week&around=me&limit=10', tok), {
      'global board 200': (x) => x.status === 200,
    });
    check(get('GET /leaderboards/courses/:id', `/leaderboards/courses/${courseId}?limit=10`), {
      'course board 200': (x) => x.status === 200,
    });
    // 1.1: the learner's league cohort and their groups on the group ladder
    check(get('GET /leagues/me', '/leagues/me', tok), { 'my league 200': (x) => x.status === 200 });
    check(get('GET /leaderboards/groups', '/leaderboards/groups?around=me', tok), {
      'group ladder 200': (x) => x.status === 200,
    });
  });
  journeyTime.add((Date.now() - started) / 1000);
  think();
}

export function instructor() {
  const n = 1 + ((__VU + __ITER) % INSTRUCTORS);
  const s = staffSession('instructor', n, instructorEmail(n));
  if (s === null) { think(); return; }
  const mine = page(get('GET /courses', '/courses?mine=true&limit=20', s.token));
  check(mine, { 'instructor has courses': (m) => m.length > 0 });
  if (mine.length === 0) return;
  const c = pick(mine);
  think();
  check(get('GET /courses/:id/analytics', `/courses/${c.id}/analytics`, s.token), { 'analytics 200': (x) => x.status === 200 });
  think();
  check(get('GET /courses/:id/students', `/courses/${c.id}/students?limit=20&page=1`, s.token), { 'roster 200': (x) => x.status === 200 });
  think();
  const full = json(get('GET /courses/:id', `/courses/${c.id}`, s.token));
  if (full !== null && Array.isArray(full.modules) && full.modules.length > 0) {
    const lessons = [].concat(...full.modules.map((m) => m.lessons));
    if (lessons.length > 0) {
      const l = pick(lessons);
      // an edit that changes nothing a learner relies on: the title, rewritten as it was
      check(patch('PATCH /lessons/:id', `/lessons/${l.id}`, { title: l.title }, s.token), { 'lesson edit 200': (x) => x.status === 200 });
    }
  }
  think();
}

export function admin() {
  const s = staffSession('admin', 1 + __ITER, ADMIN_EMAIL);
  if (s === null) { think(); return; }
  check(get('GET /admin/users', `/admin/users?page=${1 + Math.floor(Math.random() * 5)}&limit=20`, s.token), { 'users 200': (x) => x.status === 200 });
  think();
  check(get('GET /admin/audit', '/admin/audit?limit=20', s.token), { 'audit 200': (x) => x.status === 200 });
  think();
  check(get('GET /admin/performance', '/admin/performance', s.token), { 'performance 200': (x) => x.status === 200 });
  think();
}
