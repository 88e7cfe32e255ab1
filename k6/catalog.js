// catalog: VUS (default 500) anonymous visitors browsing the course list and course pages, the
// read traffic of a public catalog: a list page (sometimes filtered by category or searched),
// then one or two course pages, with a person's pauses in between. These are the public,
// cacheable routes (Cache-Control: public, max-age=60); the script does not cache, so every
// request reaches the gateway, as it would behind a CDN that missed.
import { check, group } from 'k6';
import { CATALOG_P95_MS, thresholds, shape, think, get, json, pick } from './lib/config.js';

const VUS = Number(__ENV.VUS || 500);
const CATEGORIES = ['databases', 'programming', 'operations', 'web', 'data'];
const WORDS = ['sql', 'postgresql', 'http', 'index', 'json', 'security'];

export const options = {
  scenarios: { browsers: shape(VUS, 'browse') },
  thresholds: thresholds({
    'http_req_duration{route:GET /courses}': [`p(95)<${CATALOG_P95_MS}`],
    'http_req_duration{route:GET /courses/:id}': [`p(95)<${CATALOG_P95_MS}`],
  }),
};

// ids seen on list pages, reused by later iterations of the same VU, and how many list pages
// the catalog has (learned from the first answer's total)
let known = [];
let pages = 1;

export function browse() {
  let items = [];
  group('list', () => {
    const roll = Math.random();
    let q = `?page=${1 + Math.floor(Math.random() * pages)}&limit=20`;
    if (roll < 0.2) q = `?category=${pick(CATEGORIES)}&limit=20`;
    else if (roll < 0.3) q = `?q=${pick(WORDS)}&limit=20`;
    const r = get('GET /courses', `/courses${q}`);
    const b = json(r);
    check(r, {
      'list 200': (x) => x.status === 200,
      'list is a page': () => b !== null && Array.isArray(b.items) && typeof b.total === 'number',
      'list is public-cacheable': (x) => String(x.headers['Cache-Control'] || '').indexOf('public') >= 0,
    });
    if (b !== null && Array.isArray(b.items)) items = b.items;
    if (b !== null && typeof b.total === 'number' && !/[?&](q|category)=/.test(q)) pages = Math.max(1, Math.min(5, Math.ceil(b.total / 20)));
  });
  if (items.length > 0) known = known.concat(items.map((c) => c.id)).slice(-200);
  think();
  const visits = 1 + Math.floor(Math.random() * 2);
  for (let i = 0; i < visits && known.length > 0; i++) {
    group('course page', () => {
      const id = pick(known);
      const r = get('GET /courses/:id', `/courses/${id}`);
      check(r, {
        'course 200': (x) => x.status === 200,
        'course has modules and lessons': (x) => {
          const c = json(x);
          return c !== null && c.id === id && Array.isArray(c.modules);
        },
      });
    });
    think();
  }
}
