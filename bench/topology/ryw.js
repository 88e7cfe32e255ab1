// Read-your-writes across two gateways (bench/topology.sh): each VU is one learner, logged in once,
// enrolled in one course; every iteration writes progress through one gateway and reads it back
// at once through the other (alternating), then reads the course page and the global board there,
// as a browser would after finishing a lesson. The VU's cookie jar is shared by both gateways
// (cookies ignore ports, as behind one load balancer), and its Bearer token goes with every call.
// A read that does not show the write just made is stale.
//   k6 run -e GW_A=http://127.0.0.1:PORT -e GW_B=... -e COURSE=ID -e LESSONS=ID,ID \
//          -e VUS=1000 -e DURATION=60s bench/topology/ryw.js
import http from 'k6/http';
import { Counter } from 'k6/metrics';

const A = __ENV.GW_A;
const B = __ENV.GW_B;
const COURSE = __ENV.COURSE;
const LESSONS = (__ENV.LESSONS || '').split(',').map(Number);

export const options = {
  scenarios: {
    pairs: {
      executor: 'constant-vus',
      vus: Number(__ENV.VUS || 1000),
      duration: __ENV.DURATION || '60s',
      gracefulStop: '10s',
    },
  },
  summaryTrendStats: ['avg', 'med', 'p(95)', 'p(99)', 'max'],
  discardResponseBodies: false,
};

const pairs = new Counter('pairs');
const stale = new Counter('stale_reads');
const failed = new Counter('failed_requests');

let token = null;
let k = 0;

function json(res) {
  try { return res.json(); } catch (e) { return null; }
}

function setup_learner() {
  const hdr = { headers: { 'Content-Type': 'application/json' } };
  const res = http.post(`${A}/api/v1/auth/login`,
    JSON.stringify({ email: `learner${__VU}@example.com`, password: 'password123' }),
    Object.assign({ tags: { name: 'POST login' } }, hdr));
  if (res.status !== 200) { failed.add(1); return false; }
  token = json(res).access_token;
  const en = http.post(`${B}/api/v1/courses/${COURSE}/enroll`, null,
    { headers: { Authorization: `Bearer ${token}` }, tags: { name: 'POST enroll' } });
  if (en.status !== 200 && en.status !== 201) { failed.add(1); token = null; return false; }
  return true;
}

export default function () {
  if (!token && !setup_learner()) return;
  k += 1;
  const [w, r] = k % 2 ? [A, B] : [B, A];
  const lesson = LESSONS[k % 2];
  const pos = (k >> 1) % 50 + 1;
  const auth = { Authorization: `Bearer ${token}` };
  const wr = http.post(`${w}/api/v1/progress/lessons/${lesson}`,
    JSON.stringify({ watched_seconds: 1, last_position_seconds: pos, completion_percentage: 1 }),
    { headers: Object.assign({ 'Content-Type': 'application/json' }, auth), tags: { name: 'POST progress' } });
  if (wr.status !== 200) { failed.add(1); return; }
  const rd = http.get(`${r}/api/v1/progress/courses/${COURSE}`, { headers: auth, tags: { name: 'GET progress' } });
  pairs.add(1);
  const d = rd.status === 200 ? json(rd) : null;
  if (!d) failed.add(1);
  else if (d.last_lesson_id !== lesson || d.last_position_seconds !== pos) stale.add(1);
  if (http.get(`${r}/api/v1/courses/${COURSE}`, { headers: auth, tags: { name: 'GET course' } }).status !== 200) failed.add(1);
  if (http.get(`${r}/api/v1/leaderboards/global?around=me`, { headers: auth, tags: { name: 'GET board' } }).status !== 200) failed.add(1);
}
