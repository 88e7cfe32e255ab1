// charts.js — the three charts the pages need, drawn as SVG by hand.
//
// Grouped bars (per-lesson started/completed), a funnel (learners left at each step) and
// lines over time (operator latencies, pool, cache). Each is a <figure> whose SVG is an
// image with a title and description for screen readers, and whose numbers are also in a
// table under a <details> toggle, so nothing is only visible as a picture. Colours come from
// the s1..s4 classes of app.css. Why no charting library: these three shapes are ~200 lines,
// a library would be the only third-party code the pages load (a pinned npm install in
// `make demo` and in every deployment of the pages folder) for no chart we cannot draw, and
// hand-made SVG scales with the viewBox from 360 px phones to wide screens.

const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function e(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

let uid = 0;

/** Round a maximum up to 1, 2 or 5 × 10^n so the axis ticks are even. */
export function niceMax(max) {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

function svgFrame(title, desc, width, height) {
  const id = `chart${++uid}`;
  return s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': `${id}t ${id}d`, class: 'chart' },
    s('title', { id: `${id}t` }, title), s('desc', { id: `${id}d` }, desc));
}

function dataTable(caption, head, rows) {
  return e('details', { class: 'chart-data' }, e('summary', {}, 'Show the numbers'),
    e('div', { class: 'table-wrap' }, e('table', {}, e('caption', {}, caption),
      e('thead', {}, e('tr', {}, head.map((x) => e('th', { scope: 'col' }, x)))),
      e('tbody', {}, rows.map((r) => e('tr', {}, r.map((x) => e('td', {}, x))))))));
}

function legend(series) {
  return e('ul', { class: 'legend' }, series.map((x, i) => e('li', {}, e('span', { class: `swatch ${x.cls || `s${i + 1}`}` }), x.name)));
}

/** A chart's drawing width: narrower on small screens, so its text stays readable. */
function chartWidth() {
  return Math.round(Math.min(720, Math.max(340, (document.documentElement.clientWidth || 720) - 40)));
}

function yAxis(svg, { left, top, plotW, plotH, max, format }) {
  const lead = max / 10 ** Math.floor(Math.log10(max));
  const ticks = lead === 2 ? 4 : 5;
  for (let i = 0; i <= ticks; i += 1) {
    const v = (max / ticks) * i;
    const y = top + plotH - (plotH * i) / ticks;
    svg.append(s('line', { x1: left, x2: left + plotW, y1: y, y2: y, class: 'grid' }));
    svg.append(s('text', { x: left - 6, y: y + 4, class: 'tick', 'text-anchor': 'end' }, format(v)));
  }
}

/**
 * Grouped vertical bars: categories [{label, title}], series [{name, values}].
 * Returns a <figure> with the chart, its legend and its data table.
 */
export function barChart({ title, desc, categories, series, format = (v) => String(Number.isInteger(v) ? v : v.toFixed(1)) }) {
  const width = chartWidth();
  const height = 260;
  const left = 44; const top = 12; const bottom = 34; const right = 8;
  const plotW = width - left - right; const plotH = height - top - bottom;
  const max = niceMax(Math.max(0, ...series.flatMap((x) => x.values)));
  const svg = svgFrame(title, desc, width, height);
  yAxis(svg, { left, top, plotW, plotH, max, format });
  const group = plotW / Math.max(1, categories.length);
  const barW = Math.max(2, (group * 0.8) / series.length);
  categories.forEach((c, ci) => {
    const x0 = left + ci * group + group * 0.1;
    series.forEach((x, si) => {
      const v = x.values[ci] || 0;
      const bh = (plotH * v) / max;
      svg.append(s('rect', { x: x0 + si * barW, y: top + plotH - bh, width: Math.max(1, barW - 1), height: bh, class: x.cls || `s${si + 1}` },
        s('title', {}, `${c.title || c.label}: ${x.name} ${v}`)));
    });
    svg.append(s('text', { x: x0 + (barW * series.length) / 2, y: height - bottom + 16, class: 'tick', 'text-anchor': 'middle' }, c.label));
  });
  svg.append(s('line', { x1: left, x2: left + plotW, y1: top + plotH, y2: top + plotH, class: 'axis' }));
  return e('figure', { class: 'figure' }, e('figcaption', {}, title), svg, legend(series),
    dataTable(title, ['', ...series.map((x) => x.name)], categories.map((c, ci) => [c.title || c.label, ...series.map((x) => x.values[ci])])));
}

/**
 * A funnel: steps [{label, value}] drawn as bars proportional to the first step, each with
 * its count and its share of the first step.
 */
export function funnel({ title, steps }) {
  const first = steps.length ? steps[0].value : 0;
  const list = e('ol', { class: 'funnel' });
  for (const st of steps) {
    const share = first ? (st.value / first) * 100 : 0;
    const barFill = e('span', { class: 'funnel-fill' });
    barFill.style.width = `${Math.min(100, share)}%`;
    list.append(e('li', {},
      e('span', { class: 'funnel-label' }, st.label),
      e('span', { class: 'funnel-bar', 'aria-hidden': 'true' }, barFill),
      e('span', { class: 'funnel-value' }, `${st.value}`, e('span', { class: 'muted' }, ` · ${share.toFixed(0)} %`))));
  }
  return e('figure', { class: 'figure' }, e('figcaption', {}, title), list);
}

/**
 * Lines over time: series [{name, points: [[timeMs, value], ...]}] over the window ending
 * now. `format` labels the y axis.
 */
export function lineChart({ title, desc, series, format = (v) => String(v), windowMs = 5 * 60 * 1000, now = Date.now(), minMax = 1 }) {
  const width = chartWidth();
  const height = 220;
  const left = 52; const top = 10; const bottom = 26; const right = 10;
  const plotW = width - left - right; const plotH = height - top - bottom;
  const t0 = now - windowMs;
  const all = series.flatMap((x) => x.points.filter(([t]) => t >= t0).map(([, v]) => v));
  const max = niceMax(Math.max(minMax, ...all));
  const svg = svgFrame(title, desc, width, height);
  yAxis(svg, { left, top, plotW, plotH, max, format });
  const xOf = (t) => left + ((t - t0) / windowMs) * plotW;
  const yOf = (v) => top + plotH - (plotH * Math.min(v, max)) / max;
  const step = [10000, 15000, 30000, 60000, 120000, 300000].find((x) => windowMs / x <= 6) || windowMs;
  for (let back = 0; back <= windowMs; back += step) {
    const label = back === 0 ? 'now' : back < 60000 ? `-${back / 1000} s` : `-${back / 60000} min`;
    svg.append(s('text', { x: xOf(now - back), y: height - 8, class: 'tick', 'text-anchor': back === windowMs ? 'start' : 'middle' }, label));
  }
  series.forEach((x, i) => {
    const pts = x.points.filter(([t]) => t >= t0);
    if (!pts.length) return;
    svg.append(s('polyline', { points: pts.map(([t, v]) => `${xOf(t).toFixed(1)},${yOf(v).toFixed(1)}`).join(' '), class: `line ${x.cls || `s${i + 1}`}` }));
    const [lt, lv] = pts[pts.length - 1];
    svg.append(s('circle', { cx: xOf(lt), cy: yOf(lv), r: 3, class: x.cls || `s${i + 1}` }, s('title', {}, `${x.name}: ${format(lv)}`)));
  });
  svg.append(s('line', { x1: left, x2: left + plotW, y1: top + plotH, y2: top + plotH, class: 'axis' }));
  const latest = series.map((x) => (x.points.length ? format(x.points[x.points.length - 1][1]) : '–'));
  return e('figure', { class: 'figure' }, e('figcaption', {}, title), svg, legend(series),
    dataTable(`${title}: latest values`, series.map((x) => x.name), [latest]));
}
