// video_progress: VUS (default 1,000) learners watching videos at the same time, each sending
// POST /progress/lessons/{id} every PROGRESS_INTERVAL s (default 5) as players do. A watcher
// goes through one lesson in WATCH_STEPS writes (default 12: 0 -> 100 %), then the next lesson of
// the course. This is the hottest write of the system; the threshold on its route is the one
// that matters.
//
// Sessions: with TOKENS_FILE (bench/loadtest/pool.sh) every VU takes one pooled learner and its
// lessons without a request; otherwise it logs in once and finds its lessons through
// GET /enrollments/me and GET /courses/{id} (raise the gateway's LMS_LOGIN_RATE for that).
import { check, sleep } from 'k6';
import { Counter } from 'k6/metrics';
import { PROGRESS_INTERVAL, PROGRESS_P95_MS, thresholds, shape, learnerSession, get, post, json, pick } from './lib/config.js';

const VUS = Number(__ENV.VUS || 1000);
const WATCH_STEPS = Number(__ENV.WATCH_STEPS || 12);

export const options = {
  scenarios: { watchers: shape(VUS, 'watch') },
  thresholds: thresholds({
    'http_req_duration{route:POST /progress/lessons/:id}': [`p(95)<${PROGRESS_P95_MS}`],
    progress_writes: ['count>0'],
  }),
};

const writes = new Counter('progress_writes');
const completions = new Counter('lessons_completed');

// per-VU state, kept across iterations
let me = null;
let lessons = [];
let current = 0;
let step = 0;

function setUp() {
  me = learnerSession(__VU);
  if (me === null) return false;
  if (me.lessonIds && me.lessonIds.length > 0) {
    lessons = me.lessonIds.map((id) => ({ id, duration_seconds: 600 }));
  } else {
    const mine = json(get('GET /enrollments/me', '/enrollments/me?status=active&limit=20', me.token));
    if (mine === null || !Array.isArray(mine.items) || mine.items.length === 0) return false;
    const course = json(get('GET /courses/:id', `/courses/${pick(mine.items).course_id}`, me.token));
    if (course === null || !Array.isArray(course.modules)) return false;
    lessons = [].concat(...course.modules.map((m) => m.lessons)).filter((l) => l.kind === 'video');
  }
  current = Math.floor(Math.random() * lessons.length);
  step = 0;
  return lessons.length > 0;
}

export function watch() {
  if (me === null && !setUp()) {
    sleep(PROGRESS_INTERVAL);
    me = null;
    return;
  }
  sleep(PROGRESS_INTERVAL);
  step += 1;
  const lesson = lessons[current];
  const d = Math.max(1, lesson.duration_seconds || 600);
  const pct = Math.min(100, Math.round((100 * step) / WATCH_STEPS));
  const sec = Math.floor((d * pct) / 100);
  const r = post('POST /progress/lessons/:id', `/progress/lessons/${lesson.id}`,
    { watched_seconds: sec, last_position_seconds: sec, completion_percentage: pct }, me.token);
  writes.add(1);
  check(r, {
    'progress 200': (x) => x.status === 200,
    'progress answer has the course counters': (x) => x.status !== 200 || (json(x) !== null && json(x).course !== undefined),
  });
  if (step >= WATCH_STEPS) {
    completions.add(1);
    current = (current + 1) % lessons.length;
    step = 0;
  }
}
