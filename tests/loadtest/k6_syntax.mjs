// Validates the k6 scenarios without k6 (which Debian does not package).
//
//   node tests/loadtest/k6_syntax.mjs                 load every k6/*.js under each PROFILE
//   node tests/loadtest/k6_syntax.mjs --live URL      ... and run one pass of every scenario
//                                                     function against a running gateway
//
// Each script is copied to a temporary folder with its imports of 'k6', 'k6/http', 'k6/metrics'
// and 'k6/execution' pointed at small stand-ins written here, then imported by node as an ES
// module with k6's globals (__ENV, __VU, __ITER, open). A script passes when it parses, its
// `options` name valid k6 executors with the fields each needs, every `exec` is an exported
// function, every duration is a k6 duration, every threshold expression is one k6 accepts on a
// built-in or a declared custom metric. With --live, the stand-in http module sends real requests
// through curl and `check` counts failures: setup(), one iteration of each scenario function
// (one per VU for small per-vu-iterations scenarios) and teardown() run with sleeps skipped.
// Prints one line per check and ends with "N passed, M failed".
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const args = process.argv.slice(2);
const liveIdx = args.indexOf('--live');
const liveUrl = liveIdx >= 0 ? args[liveIdx + 1] : null;
const only = args.filter((a, i) => !a.startsWith('--') && (liveIdx < 0 || i !== liveIdx + 1));

let passed = 0;
let failed = 0;
function ok(cond, what) {
  if (cond) passed++;
  else failed++;
  console.log(`${cond ? 'ok    ' : 'FAILED'} ${what}`);
}

// ---- stand-ins for the k6 modules -----------------------------------------------------------
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k6-syntax-'));
const stubs = path.join(tmp, '_stubs');
fs.mkdirSync(stubs);
fs.writeFileSync(path.join(tmp, 'package.json'), '{"type":"module"}\n');
fs.writeFileSync(path.join(stubs, 'k6.js'), `
const S = globalThis.__k6stub;
export function check(v, sets, tags) {
  let all = true;
  for (const [name, fn] of Object.entries(sets)) {
    let r;
    try { r = typeof fn === 'function' ? fn(v) : fn; } catch (e) { r = false; S.log('check ' + name + ' threw ' + e.message); }
    S.check(name, !!r);
    all = all && !!r;
  }
  return all;
}
export function sleep(s) { if (typeof s !== 'number' || !(s >= 0)) throw new Error('sleep() needs a number >= 0, got ' + s); }
export function group(name, fn) { return fn(); }
export function fail(msg) { throw new Error(msg); }
export default { check, sleep, group, fail };
`);
fs.writeFileSync(path.join(stubs, 'http.js'), `
const S = globalThis.__k6stub;
function request(method, url, body, params) { return S.request(method, url, body, params || {}); }
// the stand-in sends no cookies at all (curl without a jar), so every jar is an empty one
class CookieJar {
  cookiesForURL() { return {}; }
  set() {}
  clear() {}
  delete() {}
}
const http = {
  CookieJar,
  cookieJar: () => new CookieJar(),
  get: (url, params) => request('GET', url, null, params),
  head: (url, params) => request('HEAD', url, null, params),
  del: (url, body, params) => request('DELETE', url, body, params),
  options: (url, body, params) => request('OPTIONS', url, body, params),
  post: (url, body, params) => request('POST', url, body, params),
  put: (url, body, params) => request('PUT', url, body, params),
  patch: (url, body, params) => request('PATCH', url, body, params),
  request,
  batch: (reqs) => reqs.map((r) => Array.isArray(r) ? request(r[0], r[1], r[2], r[3]) : request(r.method, r.url, r.body, r.params)),
  expectedStatuses: (...s) => { for (const x of s) if (!(Number.isInteger(x) || (x && Number.isInteger(x.min) && Number.isInteger(x.max)))) throw new Error('expectedStatuses: bad status ' + x); return { expected: s }; },
  setResponseCallback: () => {},
};
export default http;
export const { get, post, put, patch, del, request: req, batch, expectedStatuses, setResponseCallback, cookieJar } = http;
export { CookieJar };
`);
fs.writeFileSync(path.join(stubs, 'metrics.js'), `
const S = globalThis.__k6stub;
class Metric {
  constructor(name, isTime) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]{0,127}$/.test(name)) throw new Error('bad metric name ' + name);
    this.name = name; S.metrics.add(name);
  }
  add(v) { if (typeof v !== 'number' && typeof v !== 'boolean') throw new Error(this.name + '.add() needs a number, got ' + v); }
}
export class Counter extends Metric {}
export class Gauge extends Metric {}
export class Rate extends Metric {}
export class Trend extends Metric {}
export default { Counter, Gauge, Rate, Trend };
`);
fs.writeFileSync(path.join(stubs, 'execution.js'), `
const S = globalThis.__k6stub;
export default {
  get vu() { return { idInTest: globalThis.__VU, idInInstance: globalThis.__VU, iterationInScenario: globalThis.__ITER, iterationInInstance: globalThis.__ITER }; },
  get scenario() { return { name: S.scenario, iterationInTest: globalThis.__ITER, startTime: Date.now() }; },
  get instance() { return { vusActive: 1, iterationsCompleted: 0 }; },
  test: { abort: (m) => { throw new Error('test.abort: ' + m); } },
};
`);

// the shared state the stand-ins talk to
const stub = {
  metrics: new Set(),
  scenario: '',
  checks: { pass: 0, fail: 0, failedNames: new Map() },
  requests: 0,
  log: (m) => console.log('       ' + m),
  check(name, result) {
    if (result) this.checks.pass++;
    else {
      this.checks.fail++;
      this.checks.failedNames.set(name, (this.checks.failedNames.get(name) || 0) + 1);
    }
  },
  request(method, url, body, params) {
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new Error('http: bad url ' + url);
    if (body !== null && body !== undefined && typeof body !== 'string') throw new Error('http: body must be a string (JSON.stringify it)');
    if (params.tags && typeof params.tags.route !== 'string') throw new Error('http: route tag missing');
    if (params.jar !== undefined && !(params.jar && typeof params.jar.cookiesForURL === 'function')) throw new Error('http: jar must be a CookieJar');
    this.requests++;
    if (!liveUrl) return fakeResponse(200, '{}', {});
    return curl(method, url, body, params);
  },
};
globalThis.__k6stub = stub;

function fakeResponse(status, body, headers) {
  return {
    status, body, headers, timings: { duration: 1 }, error: '', error_code: 0,
    json(sel) { const v = JSON.parse(this.body); return sel ? v[sel] : v; },
  };
}

const canon = (h) => h.split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()).join('-');
function curl(method, url, body, params) {
  const hdr = path.join(tmp, '_h');
  const out = path.join(tmp, '_b');
  const a = ['-sS', '-X', method, '-D', hdr, '-o', out, '-w', '%{http_code}', '--max-time', '30'];
  for (const [k, v] of Object.entries(params.headers || {})) a.push('-H', `${k}: ${v}`);
  if (body !== null && body !== undefined) a.push('--data-binary', body);
  a.push(url);
  const r = spawnSync('curl', a, { encoding: 'utf8' });
  if (r.status !== 0) return fakeResponse(0, '', {});
  const headers = {};
  for (const line of fs.readFileSync(hdr, 'utf8').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[canon(line.slice(0, i).trim())] = line.slice(i + 1).trim();
  }
  return fakeResponse(Number(r.stdout), fs.readFileSync(out, 'utf8'), headers);
}

// ---- what k6 accepts ------------------------------------------------------------------------
const DURATION = /^(\d+(\.\d+)?(ms|s|m|h))+$/;
const EXECUTORS = {
  'shared-iterations': ['vus', 'iterations'],
  'per-vu-iterations': ['vus', 'iterations'],
  'constant-vus': ['vus', 'duration'],
  'ramping-vus': ['stages'],
  'constant-arrival-rate': ['rate', 'timeUnit', 'duration', 'preAllocatedVUs'],
  'ramping-arrival-rate': ['stages', 'preAllocatedVUs'],
  'externally-controlled': ['duration'],
};
const BUILTIN = new Set(['http_reqs', 'http_req_duration', 'http_req_failed', 'http_req_blocked', 'http_req_connecting',
  'http_req_tls_handshaking', 'http_req_sending', 'http_req_waiting', 'http_req_receiving', 'iterations',
  'iteration_duration', 'vus', 'vus_max', 'checks', 'data_sent', 'data_received', 'group_duration', 'dropped_iterations']);
const EXPR = /^(p\(\d+(\.\d+)?\)|avg|min|max|med|rate|count|value)\s*(<|<=|>|>=|==|===|!=)\s*-?\d+(\.\d+)?$/;

function validateOptions(name, mod, profile) {
  const o = mod.options;
  ok(o && typeof o === 'object', `${name} [${profile}]: exports options`);
  if (!o) return [];
  const sc = o.scenarios || {};
  const names = Object.keys(sc);
  ok(names.length > 0, `${name} [${profile}]: options.scenarios has ${names.length} scenario(s)`);
  for (const s of names) {
    const c = sc[s];
    const need = EXECUTORS[c.executor];
    ok(need !== undefined, `${name} [${profile}] ${s}: executor ${c.executor} is a k6 executor`);
    if (!need) continue;
    ok(need.every((f) => c[f] !== undefined), `${name} [${profile}] ${s}: has ${need.join(', ')}`);
    const fn = c.exec || 'default';
    ok(typeof mod[fn] === 'function', `${name} [${profile}] ${s}: exec ${fn} is an exported function`);
    const durs = [c.duration, c.maxDuration, c.gracefulStop, c.gracefulRampDown, c.startTime, c.timeUnit]
      .concat((c.stages || []).map((st) => st.duration)).filter((d) => d !== undefined);
    ok(durs.every((d) => DURATION.test(d)), `${name} [${profile}] ${s}: durations ${durs.join(' ')}`);
    ok((c.stages || []).every((st) => Number.isInteger(st.target) && st.target >= 0), `${name} [${profile}] ${s}: stage targets are integers`);
    for (const f of ['vus', 'iterations', 'startVUs', 'preAllocatedVUs']) {
      if (c[f] !== undefined) ok(Number.isInteger(c[f]) && c[f] >= (f === 'startVUs' ? 0 : 1), `${name} [${profile}] ${s}: ${f}=${c[f]}`);
    }
  }
  for (const f of ['setupTimeout', 'teardownTimeout']) {
    if (o[f] !== undefined) ok(DURATION.test(o[f]), `${name} [${profile}]: ${f} ${o[f]}`);
  }
  for (const [key, list] of Object.entries(o.thresholds || {})) {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)(\{([^:{}]+):(.+)\})?$/.exec(key);
    ok(m !== null && (BUILTIN.has(m[1]) || stub.metrics.has(m[1])), `${name} [${profile}]: threshold metric ${key}`);
    const exprs = (Array.isArray(list) ? list : [list]).map((x) => (typeof x === 'string' ? x : x.threshold));
    ok(exprs.every((e) => EXPR.test(e)), `${name} [${profile}]: threshold ${key}: ${exprs.join(', ')}`);
  }
  return names.map((s) => sc[s]);
}

// ---- load each script (under each profile) --------------------------------------------------
fs.cpSync(path.join(root, 'k6'), path.join(tmp, 'k6'), { recursive: true });
const rewrite = (file) => {
  let src = fs.readFileSync(file, 'utf8');
  for (const [m, f] of [['k6/http', 'http'], ['k6/metrics', 'metrics'], ['k6/execution', 'execution'], ['k6', 'k6']]) {
    src = src.replaceAll(`from '${m}'`, `from '${pathToFileURL(path.join(stubs, f + '.js')).href}'`);
  }
  fs.writeFileSync(file, src);
};
const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? walk(path.join(d, e.name)) : e.name.endsWith('.js') ? [path.join(d, e.name)] : []);
walk(path.join(tmp, 'k6')).forEach(rewrite);

const scripts = fs.readdirSync(path.join(root, 'k6')).filter((f) => f.endsWith('.js'))
  .filter((f) => only.length === 0 || only.includes(f) || only.includes(f.replace(/\.js$/, ''))).sort();
ok(scripts.length > 0, `found ${scripts.length} k6 scripts`);

function setGlobals(env) {
  globalThis.__ENV = Object.assign({}, env);
  globalThis.__VU = 0;
  globalThis.__ITER = 0;
  globalThis.open = (p) => fs.readFileSync(p, 'utf8');
}

let bust = 0;
async function load(script, env) {
  setGlobals(env);
  // a fresh copy of the module graph per load: PROFILE and the other settings are read at import
  const dir = path.join(tmp, `run${++bust}`);
  fs.cpSync(path.join(tmp, 'k6'), dir, { recursive: true });
  return import(pathToFileURL(path.join(dir, script)).href);
}

for (const script of scripts) {
  for (const profile of ['baseline', 'stress', 'soak', 'spike']) {
    let mod = null;
    try {
      mod = await load(script, { PROFILE: profile });
      ok(true, `${script} [${profile}]: loads`);
    } catch (e) {
      ok(false, `${script} [${profile}]: loads (${e.message})`);
      continue;
    }
    validateOptions(script, mod, profile);
  }
  let threw = false;
  try { await load(script, { PROFILE: 'nonsense' }); } catch (e) { threw = true; }
  if (script !== 'smoke.js') ok(threw, `${script}: an unknown PROFILE is refused`);
}

// ---- --live: one real pass of every scenario function ---------------------------------------
if (liveUrl) {
  if (!/^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\/?$/.test(liveUrl)) {
    console.log(`refusing --live ${liveUrl}: only loopback targets`);
    process.exit(2);
  }
  const baseEnv = Object.assign({}, process.env, {
    BASE_URL: liveUrl, PROFILE: 'baseline', WATCH_STEPS: '3', LEARNERS_SPIKE: '3', SEATS: '2', GATHER_SECONDS: '0',
  });
  for (const script of scripts) {
    stub.checks = { pass: 0, fail: 0, failedNames: new Map() };
    stub.requests = 0;
    let error = null;
    try {
      const mod = await load(script, baseEnv);
      let data;
      if (typeof mod.setup === 'function') { globalThis.__VU = 0; data = mod.setup(); }
      for (const [sname, c] of Object.entries(mod.options.scenarios)) {
        stub.scenario = sname;
        const vus = c.executor === 'per-vu-iterations' && c.vus <= 10 ? c.vus : 1;
        for (let vu = 1; vu <= vus; vu++) {
          globalThis.__VU = vu;
          globalThis.__ITER = 0;
          mod[c.exec || 'default'](data);
        }
      }
      if (typeof mod.teardown === 'function') { globalThis.__VU = 0; mod.teardown(data); }
    } catch (e) {
      error = e;
    }
    ok(error === null, `${script} live: runs without an exception${error ? ` (${error.stack.split('\n').slice(0, 3).join(' | ')})` : ''}`);
    const failedNames = [...stub.checks.failedNames.entries()].map(([n, k]) => `${n} x${k}`).join('; ');
    ok(stub.checks.fail === 0 && stub.checks.pass > 0,
      `${script} live: ${stub.checks.pass} checks passed, ${stub.checks.fail} failed, ${stub.requests} requests${failedNames ? ` (failed: ${failedNames})` : ''}`);
  }
}

fs.rmSync(tmp, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
