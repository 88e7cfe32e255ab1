// #/operate — the operator's live view of GET /admin/performance, read every few seconds:
// request and error rates, per-route p50/p95/p99 (the gateway's figures since it started,
// sampled over time), pool in use / waiting, cache hit ratio, board freshness, top queries.
// The samples stay in memory while the page is open in the tab (5 minutes are drawn).

import { api } from '../api.js';
import { lineChart } from '../charts.js';
import * as fmt from '../format.js';
import { card, choice, fill, h, problemBox, select, stat, table } from '../ui.js';

const HISTORY_MS = 5 * 60 * 1000;
const samples = []; // {t, doc}

function keepSample(doc) {
  const t = Date.now();
  samples.push({ t, doc });
  while (samples.length && samples[0].t < t - HISTORY_MS - 60000) samples.shift();
}

/** Requests and 5xx per second between consecutive samples (a restart resets the counters). */
function rates() {
  const req = [];
  const err = [];
  for (let i = 1; i < samples.length; i += 1) {
    const a = samples[i - 1];
    const b = samples[i];
    const dt = (b.t - a.t) / 1000;
    const dr = b.doc.gateway.requests_total - a.doc.gateway.requests_total;
    const de = b.doc.gateway.errors_total - a.doc.gateway.errors_total;
    if (dt > 0 && dr >= 0 && de >= 0) {
      req.push([b.t, dr / dt]);
      err.push([b.t, de / dt]);
    }
  }
  return { req, err };
}

function routeSeries(route) {
  const pick = (key) => samples.map(({ t, doc }) => {
    const r = doc.gateway.routes.find((x) => x.route === route);
    return r ? [t, r[key]] : null;
  }).filter(Boolean);
  return [{ name: 'p50', points: pick('p50_ms') }, { name: 'p95', points: pick('p95_ms') }, { name: 'p99', points: pick('p99_ms') }];
}

function busiestRoute(doc) {
  const routes = doc.gateway.routes.filter((r) => r.route.includes('/api/v1/') && !r.route.includes('/admin/performance'));
  routes.sort((a, b) => b.count - a.count);
  return (routes[0] || doc.gateway.routes[0] || {}).route;
}

export default {
  path: '/operate',
  title: 'Operations',
  roles: ['admin'],
  nav: { label: 'Operate', order: 50 },
  async render(ctx) {
    const { main, query } = ctx;
    let everyMs = Number(query.every) * 1000 || 3000;
    let paused = false;
    let route = query.route || '';
    let timer = null;
    let busy = false;

    const tiles = h('div', { class: 'stats card', id: 'perf-tiles' });
    const charts = h('div', { class: 'grid-2', id: 'perf-charts' });
    const routesBox = h('div', { id: 'perf-routes' });
    const queriesBox = h('div', { id: 'perf-queries' });
    const status = h('p', { class: 'muted small', id: 'perf-status', 'aria-live': 'off' });
    const problem = h('div', { id: 'perf-problem' });
    const routePick = h('span');
    const pauseBtn = h('button', { type: 'button', class: 'btn', id: 'perf-pause', 'aria-pressed': 'false' }, 'Pause');
    pauseBtn.addEventListener('click', () => {
      paused = !paused;
      pauseBtn.textContent = paused ? 'Resume' : 'Pause';
      pauseBtn.setAttribute('aria-pressed', String(paused));
      if (!paused) poll();
    });
    const everyChoice = choice('Refresh every', [2000, 3000, 5000, 10000].map((v) => ({ value: v, label: `${v / 1000} s` })), everyMs, (v) => {
      everyMs = v;
      everyChoice.querySelectorAll('button').forEach((b) => b.setAttribute('aria-pressed', String(Number(b.dataset.value) === v)));
      schedule();
    });

    main.append(h('h1', {}, 'Operations'),
      h('div', { class: 'toolbar' }, pauseBtn, everyChoice, routePick, h('a', { class: 'btn', href: '#/operate/audit' }, 'Audit log')),
      status, problem, tiles, charts, routesBox, queriesBox);

    function draw(doc) {
      const g = doc.gateway;
      const d = doc.database;
      const boards = doc.leaderboards || {};
      fill(tiles,
        stat('requests', fmt.num(g.requests_total), { id: 'stat-requests' }),
        stat('5xx answers', fmt.num(g.errors_total)),
        stat('pool in use', `${g.pool.in_use} / ${g.pool.size}`, { id: 'stat-pool' }),
        stat('waiting for a connection', fmt.num(g.pool.waiting)),
        stat('cache hit ratio', fmt.ratio(d.cache_hit_ratio), { id: 'stat-cache' }),
        stat('database connections', fmt.num(d.connections)),
        stat('database size', fmt.bytes(d.size_bytes)),
        stat('boards refreshed', fmt.ago(boards.generated_at), { id: 'stat-boards', hint: boards.oldest_generated_at ? `oldest ${fmt.ago(boards.oldest_generated_at)}` : undefined }));

      const names = g.routes.map((r) => r.route);
      if (!route || !names.includes(route)) route = busiestRoute(doc) || '';
      fill(routePick, select('Route', names.map((n) => ({ value: n, label: n })), route, (v) => { route = v; draw(doc); }, { id: 'perf-route' }));

      const { req, err } = rates();
      const now = Date.now();
      // the charts span what has been sampled, from one minute up to five
      const span = Math.min(HISTORY_MS, Math.max(60000, now - samples[0].t));
      fill(charts,
        card(null, lineChart({ title: `Latency of ${route} (ms, since the gateway started)`, desc: 'p50, p95 and p99 in milliseconds since the page opened, five minutes at most.', series: routeSeries(route), format: (v) => fmt.ms(v), now, windowMs: span })),
        card(null, lineChart({ title: 'Requests per second', desc: 'All requests and 5xx answers per second.', series: [{ name: 'requests/s', points: req }, { name: '5xx/s', points: err, cls: 's4' }], format: (v) => v.toFixed(1), now, windowMs: span })),
        card(null, lineChart({ title: 'Connection pool', desc: 'Connections in use and requests waiting for one.', series: [{ name: 'in use', points: samples.map(({ t, doc: x }) => [t, x.gateway.pool.in_use]) }, { name: 'waiting', points: samples.map(({ t, doc: x }) => [t, x.gateway.pool.waiting]), cls: 's4' }], format: (v) => v.toFixed(0), now, windowMs: span, minMax: g.pool.size })),
        card(null, lineChart({ title: 'Cache hit ratio (%)', desc: 'Share of database block reads found in shared buffers.', series: [{ name: 'hit ratio', points: samples.map(({ t, doc: x }) => [t, x.database.cache_hit_ratio * 100]) }], format: (v) => `${v.toFixed(1)}`, now, windowMs: span, minMax: 100 })));

      fill(routesBox, card('Routes', table([
        { label: 'Route', cell: (r) => h('code', {}, r.route) },
        { label: 'Requests', cell: (r) => fmt.num(r.count), class: 'num' },
        { label: 'p50', cell: (r) => fmt.ms(r.p50_ms), class: 'num' },
        { label: 'p95', cell: (r) => fmt.ms(r.p95_ms), class: 'num' },
        { label: 'p99', cell: (r) => fmt.ms(r.p99_ms), class: 'num' },
      ], [...g.routes].sort((a, b) => b.count - a.count), { caption: 'Every route served since the gateway started' })));

      fill(queriesBox, card('Top queries', table([
        { label: 'Query', cell: (q) => h('code', { class: 'query', title: q.query }, q.query.length > 140 ? `${q.query.slice(0, 140)}…` : q.query) },
        { label: 'Calls', cell: (q) => fmt.num(q.calls), class: 'num' },
        { label: 'Mean', cell: (q) => fmt.ms(q.mean_ms), class: 'num' },
        { label: 'Total', cell: (q) => fmt.ms(q.total_ms), class: 'num' },
      ], d.top_queries || [], { caption: 'By total time (pg_stat_statements)', empty: 'pg_stat_statements is not installed in this database.' })));
      status.textContent = `Updated ${new Date().toLocaleTimeString('en')} · ${samples.length} samples`;
    }

    async function poll() {
      if (busy || !ctx.alive()) return;
      busy = true;
      try {
        const doc = await api('/admin/performance');
        if (!ctx.alive()) return;
        keepSample(doc);
        problem.replaceChildren();
        draw(doc);
      } catch (err) {
        if (ctx.alive()) fill(problem, problemBox(err, { heading: 'The performance figures could not be read' }));
      } finally {
        busy = false;
      }
    }

    function schedule() {
      clearInterval(timer);
      timer = setInterval(() => { if (!paused) poll(); }, everyMs);
    }

    await poll();
    schedule();
    return () => clearInterval(timer);
  },
};
