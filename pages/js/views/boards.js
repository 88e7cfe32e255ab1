// #/boards — the leaderboards: global or one of my courses, all time / week / month, the top or
// the page around me (GET /leaderboards/global, /leaderboards/courses/{id}, ?around=me).
// The state lives in the hash (?board=course:9&window=week&around=me&offset=50), so every
// view of a board has an address.

import { api } from '../api.js';
import * as fmt from '../format.js';
import { navigate } from '../router.js';
import { session } from '../session.js';
import { choice, h, select, table } from '../ui.js';

const WINDOWS = [{ value: 'all', label: 'All time' }, { value: 'week', label: 'This week' }, { value: 'month', label: 'This month' }];
const LIMIT = 20;

export default {
  path: '/boards',
  title: 'Leaderboards',
  nav: { label: 'Leaderboards', order: 30 },
  async render(ctx) {
    const { main, query } = ctx;
    const board = query.board || 'global';
    const windowName = query.window || 'all';
    const around = query.around === 'me' && session.user ? 'me' : '';
    const offset = Math.max(0, Number(query.offset) || 0);
    const go = (change) => navigate('/boards', { board, window: windowName, around, ...change });

    const mine = session.user
      ? await api('/enrollments/me', { query: { limit: 100 } }).then((r) => r.items).catch(() => [])
      : [];
    const boardOptions = [{ value: 'global', label: 'Everyone' },
      ...mine.map((e) => ({ value: `course:${e.course_id}`, label: e.course_title }))];
    if (!boardOptions.some((o) => o.value === board)) boardOptions.push({ value: board, label: board });

    const path = board === 'global' ? '/leaderboards/global' : `/leaderboards/courses/${board.split(':')[1]}`;
    const data = await api(path, { query: { window: windowName, limit: LIMIT, offset: around ? undefined : offset, around: around || undefined } });
    if (!ctx.alive()) return;

    main.append(h('h1', {}, 'Leaderboards'),
      h('div', { class: 'toolbar' },
        select('Board', boardOptions, board, (v) => go({ board: v, offset: 0 }), { id: 'board-select' }),
        choice('Period', WINDOWS, windowName, (v) => go({ window: v, offset: 0 })),
        session.user ? choice('Show', [{ value: '', label: 'Top' }, { value: 'me', label: 'Around me' }], around, (v) => go({ around: v, offset: 0 })) : null));

    const me = data.me;
    main.append(h('p', { class: 'muted', id: 'board-summary' },
      `${fmt.num(data.total)} learners`,
      data.period_start ? ` since ${data.period_start}` : '',
      ` · updated ${fmt.ago(data.generated_at)}`,
      session.user ? (me ? ` · you are #${me.rank} with ${fmt.num(me.points)} points` : ' · you are not on this board') : ''));

    main.append(table([
      { label: 'Rank', cell: (r) => `#${r.rank}`, class: 'num' },
      { label: 'Learner', cell: (r) => r.display_name },
      { label: 'Level', cell: (r) => r.level, class: 'num' },
      { label: 'Points', cell: (r) => fmt.num(r.points), class: 'num' },
    ], data.items, {
      caption: `${boardOptions.find((o) => o.value === board).label}, ${WINDOWS.find((w) => w.value === windowName)?.label || windowName}`,
      empty: 'No points on this board yet.',
      rowClass: (r) => (session.user && r.user_id === session.user.id ? 'me' : null),
    }));

    const first = data.offset ?? offset;
    main.append(h('nav', { class: 'pager', 'aria-label': 'Board pages' },
      h('button', { type: 'button', class: 'btn', disabled: first <= 0, onclick: () => go({ around: '', offset: Math.max(0, first - LIMIT) }) }, '← Higher'),
      h('span', { class: 'muted' }, data.items.length ? `Ranks ${data.items[0].rank}–${data.items[data.items.length - 1].rank}` : ''),
      h('button', { type: 'button', class: 'btn', disabled: first + data.items.length >= data.total, onclick: () => go({ around: '', offset: first + LIMIT }) }, 'Lower →')));
  },
};
