// smoke: every main route once, with checks on status and body. One VU, one iteration; run it
// first against any new deployment (k6 run k6/smoke.js). PROFILE is accepted for symmetry with
// the other scenarios but a smoke test is always one pass.
// A pass registers twice and logs in four times: against a gateway with the default login limit
// (5 a minute per client) the last of them waits out the 429 (Retry-After), so a pass can take a
// minute; the checks and thresholds hold either way.
import http from 'k6/http';
import { check, group } from 'k6';
import {
  BASE_URL, ADMIN_EMAIL, INSTRUCTORS, thresholds, login, authPost, instructorEmail, get, post, patch, json,
} from './lib/config.js';

export const options = {
  scenarios: {
    smoke: { executor: 'per-vu-iterations', vus: 1, iterations: 1, maxDuration: '5m', exec: 'smoke' },
  },
  thresholds: thresholds({ checks: ['rate==1.0'] }),
};

const isPage = (b) => b !== null && Array.isArray(b.items) && typeof b.total === 'number';
const isProblem = (r, status, code) => {
  const b = json(r);
  return r.status === status && b !== null && b.code === code && b.status === status;
};

export function smoke() {
  group('ops', () => {
    check(http.get(`${BASE_URL}/health`, { tags: { route: 'GET /health', kind: 'api' } }), {
      'health 200 ok': (r) => r.status === 200 && json(r) !== null && json(r).status === 'ok',
    });
    check(http.get(`${BASE_URL}/ready`, { tags: { route: 'GET /ready', kind: 'api' } }), { 'ready 200': (r) => r.status === 200 });
    check(http.get(`${BASE_URL}/metrics`, { tags: { route: 'GET /metrics', kind: 'api' } }), {
      'metrics 200 text': (r) => r.status === 200 && r.body.indexOf('# TYPE') >= 0,
    });
    check(get('GET /openapi.json', '/openapi.json'), {
      'openapi document': (r) => r.status === 200 && json(r) !== null && typeof json(r).openapi === 'string',
    });
  });

  // a brand-new learner: register, log in, enroll, study
  const email = `smoke-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
  let me = null;
  group('auth', () => {
    check(authPost('POST /auth/register', '/auth/register', { email, password: 'password123', display_name: 'Smoke Test' }, [201]), {
      'register 201 user': (r) => r.status === 201 && json(r) !== null && json(r).email === email,
    });
    check(authPost('POST /auth/register', '/auth/register', { email, password: 'password123', display_name: 'Smoke Test' },
      [409]), { 'register twice 409 email_taken': (r) => isProblem(r, 409, 'email_taken') });
    check(authPost('POST /auth/login', '/auth/login', { email, password: 'wrong-password' }, [401]), {
      'bad password 401 invalid_credentials': (r) => isProblem(r, 401, 'invalid_credentials'),
    });
    me = login(email);
  });
  if (me === null) return;
  const tok = me.token;

  group('users', () => {
    check(get('GET /users/me', '/users/me', tok), {
      'me 200': (r) => r.status === 200 && json(r).email === email && json(r).role === 'student',
    });
    check(get('GET /users/me', '/users/me', null, [401]), { 'me without token 401': (r) => isProblem(r, 401, 'unauthenticated') });
    check(patch('PATCH /users/me', '/users/me', { display_name: 'Smoke Tested' }, tok), {
      'patch me 200': (r) => r.status === 200 && json(r).display_name === 'Smoke Tested',
    });
  });

  let course = null;
  group('catalog', () => {
    const list = get('GET /courses', '/courses?limit=100');
    check(list, { 'courses page': (r) => r.status === 200 && isPage(json(r)) && json(r).items.length > 0 });
    const items = isPage(json(list)) ? json(list).items : [];
    // a course with a free seat, no prerequisite, more than one lesson and a video lesson, so the
    // new learner can enroll, watch a video to the end, and one completed lesson does not
    // complete the course (other runs and tests add courses of every shape to the catalog)
    const open = items.filter((c) => (c.seats_left === null || c.seats_left > 0)
      && c.lesson_count >= 2 && (c.prerequisite_course_ids || []).length === 0 && c.enroll_closes_at === null);
    check(open, { 'an open course in the catalog': (c) => c.length > 0 });
    let res = null;
    for (const c of open) {
      const r = get('GET /courses/:id', `/courses/${c.id}`);
      const b = json(r);
      if (r.status === 200 && b !== null && Array.isArray(b.modules)
        && b.modules.some((m) => m.lessons.some((l) => l.kind === 'video' && l.duration_seconds > 0))) {
        res = r;
        break;
      }
    }
    check(res, {
      'an open course with a video lesson': (r) => r !== null && r.status === 200 && json(r).modules.length > 0,
    });
    if (res === null) return;
    course = json(res);
    check(get('GET /courses/:id', '/courses/999999999999', null, [404]), { 'unknown course 404': (r) => isProblem(r, 404, 'not_found') });
    check(get('GET /courses/:id', '/courses/abc', null, [400]), { 'bad id 400 invalid_id': (r) => isProblem(r, 400, 'invalid_id') });
  });
  if (course === null) return;
  const lessons = [].concat(...course.modules.map((m) => m.lessons));
  const video = lessons.find((l) => l.kind === 'video' && l.duration_seconds > 0);

  group('enrollment', () => {
    check(post('POST /courses/:id/enroll', `/courses/${course.id}/enroll`, null, tok), {
      'enroll 201': (r) => r.status === 201 && json(r).status === 'active' && json(r).course_id === course.id,
    });
    check(post('POST /courses/:id/enroll', `/courses/${course.id}/enroll`, null, tok), {
      'enroll again 200 (idempotent)': (r) => r.status === 200 && json(r).status === 'active',
    });
    check(get('GET /enrollments/me', '/enrollments/me', tok), {
      'my enrollments': (r) => r.status === 200 && isPage(json(r)) && json(r).items.some((e) => e.course_id === course.id),
    });
  });

  group('learning', () => {
    check(get('GET /lessons/:id', `/lessons/${video.id}`, tok), {
      'lesson 200 with progress field': (r) => r.status === 200 && json(r).id === video.id && 'progress' in json(r),
    });
    const half = Math.max(1, Math.floor((video.duration_seconds || 100) / 2));
    check(post('POST /progress/lessons/:id', `/progress/lessons/${video.id}`,
      { watched_seconds: half, last_position_seconds: half, completion_percentage: 50 }, tok), {
      'progress 200': (r) => r.status === 200 && json(r).lesson.lesson_id === video.id && json(r).lesson.is_completed === false,
    });
    check(post('POST /progress/lessons/:id', `/progress/lessons/${video.id}`,
      { watched_seconds: 2 * half, last_position_seconds: 2 * half, completion_percentage: 100 }, tok), {
      'progress completes the lesson': (r) => r.status === 200 && json(r).lesson.is_completed === true && json(r).course.completed_lessons >= 1,
      'points awarded': (r) => r.status === 200 && json(r).points_awarded >= 0 && typeof json(r).total_points === 'number',
    });
    check(post('POST /progress/lessons/:id', `/progress/lessons/${video.id}`,
      { watched_seconds: -1, last_position_seconds: 0, completion_percentage: 101 }, tok, [400]), {
      'bad progress 400': (r) => isProblem(r, 400, 'validation_failed'),
    });
    check(get('GET /progress/courses/:id', `/progress/courses/${course.id}`, tok), {
      'course progress': (r) => r.status === 200 && json(r).course_id === course.id && Array.isArray(json(r).modules),
    });
    const quizLesson = lessons.find((l) => l.kind === 'quiz');
    if (quizLesson) {
      const lesson = json(get('GET /lessons/:id', `/lessons/${quizLesson.id}`, tok));
      const quizId = lesson && (lesson.quiz_id || (lesson.quiz && lesson.quiz.id));
      if (quizId) {
        check(get('GET /quizzes/:id', `/quizzes/${quizId}`, tok), {
          'quiz without answers': (r) => r.status === 200 && json(r).questions.every((q) => !('answer' in q)),
        });
      }
    }
  });

  group('gamification', () => {
    check(get('GET /gamification/me', '/gamification/me', tok), {
      'gamification me': (r) => r.status === 200 && typeof json(r).total_points === 'number' && typeof json(r).level === 'number',
    });
    check(get('GET /gamification/me/history', '/gamification/me/history', tok), { 'points history page': (r) => r.status === 200 && isPage(json(r)) });
    check(get('GET /achievements', '/achievements'), { achievements: (r) => r.status === 200 && Array.isArray(json(r).items) });
    check(get('GET /leaderboards/global', '/leaderboards/global?limit=10&around=me', tok), {
      'global board': (r) => r.status === 200 && json(r).board === 'global' && Array.isArray(json(r).items),
    });
    check(get('GET /leaderboards/courses/:id', `/leaderboards/courses/${course.id}?window=week`), {
      'course board': (r) => r.status === 200 && json(r).board === `course:${course.id}`,
    });
    check(get('GET /certificates/:code', '/certificates/no-such-certificate-code-000', null, [404]), {
      'unknown certificate 404': (r) => isProblem(r, 404, 'not_found'),
    });
    check(post('POST /certificates/courses/:id', `/certificates/courses/${course.id}`, null, tok, [409]), {
      'certificate before completion 409': (r) => isProblem(r, 409, 'course_not_completed'),
    });
  });

  group('instructor', () => {
    const s = login(instructorEmail(1 + Math.floor(Math.random() * INSTRUCTORS)));
    if (s === null) return;
    const mine = json(get('GET /courses', '/courses?mine=true&limit=5', s.token));
    check(mine, { 'my courses': (b) => isPage(b) });
    const c = isPage(mine) && mine.items.length > 0 ? mine.items[0] : null;
    if (c) {
      check(get('GET /courses/:id/analytics', `/courses/${c.id}/analytics`, s.token), {
        analytics: (r) => r.status === 200 && json(r).course_id === c.id && typeof json(r).completion_rate === 'number',
      });
      check(get('GET /courses/:id/students', `/courses/${c.id}/students?limit=10`, s.token), { roster: (r) => r.status === 200 && isPage(json(r)) });
    }
    check(get('GET /courses/:id/analytics', `/courses/${course.id}/analytics`, tok, [403]), {
      'analytics as a learner 403': (r) => isProblem(r, 403, 'forbidden'),
    });
    const created = post('POST /courses', '/courses', { title: 'Smoke course', summary: 'Made by k6/smoke.js', capacity: 10 }, s.token);
    check(created, { 'course created 201': (r) => r.status === 201 && json(r).is_published === false });
    if (created.status !== 201) return;
    const cid = json(created).id;
    const mod = post('POST /courses/:id/modules', `/courses/${cid}/modules`, { title: 'Part 1' }, s.token);
    check(mod, { 'module 201': (r) => r.status === 201 });
    if (mod.status !== 201) return;
    const les = post('POST /modules/:id/lessons', `/modules/${json(mod).id}/lessons`,
      { title: 'Intro', kind: 'video', duration_seconds: 120, video_playback_id: 'smoke' }, s.token);
    check(les, { 'lesson 201': (r) => r.status === 201 });
    if (les.status !== 201) return;
    check(patch('PATCH /lessons/:id', `/lessons/${json(les).id}`, { title: 'Introduction' }, s.token), {
      'lesson edited': (r) => r.status === 200 && json(r).title === 'Introduction',
    });
    check(post('POST /courses/:id/publish', `/courses/${cid}/publish`, null, s.token), {
      'published 200': (r) => r.status === 200 && json(r).is_published === true && json(r).seats_left === 10,
    });
  });

  group('admin', () => {
    const a = login(ADMIN_EMAIL);
    if (a === null) return;
    check(get('GET /admin/users', '/admin/users?role=student&limit=5', a.token), { 'admin users': (r) => r.status === 200 && isPage(json(r)) });
    check(get('GET /admin/audit', '/admin/audit?limit=5', a.token), {
      'audit cursor page': (r) => r.status === 200 && Array.isArray(json(r).items) && 'next_cursor' in json(r),
    });
    check(get('GET /admin/performance', '/admin/performance', a.token), {
      performance: (r) => r.status === 200 && json(r).database !== undefined && json(r).gateway !== undefined,
    });
    check(get('GET /admin/users', '/admin/users', tok, [403]), { 'admin route as a learner 403': (r) => isProblem(r, 403, 'forbidden') });
  });

  group('logout', () => {
    check(post('POST /auth/logout', '/auth/logout', null, tok), { 'logout 204': (r) => r.status === 204 });
    check(get('GET /users/me', '/users/me', tok, [401]), { 'revoked token 401': (r) => isProblem(r, 401, 'unauthenticated') });
  });
}

