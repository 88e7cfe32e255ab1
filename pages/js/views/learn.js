// #/learn — the learner's start page: points, level, streak, rank and achievements
// (GET /gamification/me, /achievements), and my courses with their progress bars and a
// "continue where I stopped" link (GET /enrollments/me, then /progress/courses/{id} per course).

import { api } from '../api.js';
import * as fmt from '../format.js';
import { href } from '../router.js';
import { badge, card, h, loading, pager, problemBox, progressBar, stat } from '../ui.js';

/** The points / level / streak card from a /gamification/me document. */
export function scoreCard(me) {
  const lp = me.level_progress || {};
  const span = (lp.next_level_at ?? 0) - (lp.level_floor ?? 0);
  const into = me.total_points - (lp.level_floor ?? 0);
  return card('My points',
    h('div', { class: 'stats' },
      stat('points', fmt.num(me.total_points), { id: 'my-points' }),
      stat('level', fmt.num(me.level), { id: 'my-level' }),
      stat('day streak', fmt.num(me.current_streak), { id: 'my-streak', hint: `longest ${me.longest_streak}` }),
      stat('rank, all time', me.rank && me.rank.all_time ? `#${fmt.num(me.rank.all_time)}` : '–', { hint: me.rank && me.rank.week ? `#${me.rank.week} this week` : 'not on the board' })),
    h('p', { class: 'bar-caption' }, `Level ${me.level}: ${fmt.num(into)} of ${fmt.num(span)} points to level ${me.level + 1}`),
    progressBar(into, { max: span > 0 ? span : 1, label: `Progress to level ${me.level + 1}`, text: `${fmt.num(into)} / ${fmt.num(span)}`, id: 'level-bar' }));
}

function achievementsCard(me, all) {
  const earned = new Map((me.achievements || []).map((a) => [a.code, a]));
  const items = (all.items || []).map((a) => {
    const got = earned.get(a.code);
    return h('li', { class: got ? 'ach ach-earned' : 'ach' },
      h('span', { class: 'ach-mark', 'aria-hidden': 'true' }, got ? '★' : '☆'),
      h('span', {}, h('strong', {}, a.title), ' ', h('span', { class: 'muted' }, a.description)),
      h('span', { class: 'muted small' }, got ? `earned ${fmt.dateTime(got.awarded_at)}` : `${a.points} points`));
  });
  return card(`Achievements (${earned.size} of ${(all.items || []).length})`, h('ul', { class: 'achievements', id: 'achievements' }, items));
}

function courseRow(e, prog) {
  const resume = prog && prog.last_lesson_id
    ? h('a', { class: 'btn btn-primary', href: href(`/learn/lessons/${prog.last_lesson_id}`) }, `Continue${prog.last_position_seconds ? ` at ${fmt.clock(prog.last_position_seconds)}` : ''}`)
    : h('a', { class: 'btn', href: href(`/learn/courses/${e.course_id}`) }, e.status === 'dropped' ? 'View course' : 'Start');
  return h('li', { class: 'course-row', dataset: { course: e.course_id } },
    h('div', { class: 'course-head' },
      h('a', { href: href(`/learn/courses/${e.course_id}`), class: 'course-title' }, e.course_title),
      badge(e.status)),
    progressBar(e.progress_percentage, { label: `Progress in ${e.course_title}` }),
    h('div', { class: 'course-foot' },
      h('span', { class: 'muted' }, `${e.completed_lessons} of ${e.total_lessons} lessons`),
      resume));
}

async function coursesCard(ctx, page) {
  const list = await api('/enrollments/me', { query: { page, limit: 10 } });
  const progress = await Promise.all(list.items.map((e) => (e.status === 'dropped'
    ? null : api(`/progress/courses/${e.course_id}`).catch(() => null))));
  const box = card('My courses');
  if (!list.items.length) {
    box.append(h('p', { class: 'muted' }, 'You are not enrolled in any course yet. ', h('a', { href: '#/courses' }, 'Browse the catalog')));
    return box;
  }
  box.append(h('ul', { class: 'course-list', id: 'my-courses' }, list.items.map((e, i) => courseRow(e, progress[i]))));
  if (list.total > list.limit) {
    box.append(pager(list, async (p) => {
      const next = await coursesCard(ctx, p).catch((err) => card('My courses', problemBox(err)));
      box.replaceWith(next);
    }));
  }
  return box;
}

export default {
  path: '/learn',
  title: 'My learning',
  roles: ['student', 'instructor', 'admin'],
  nav: { label: 'Learn', order: 10 },
  async render(ctx) {
    const { main, user } = ctx;
    main.append(h('h1', {}, `Welcome back, ${user.display_name}`));
    const wait = loading('Loading your courses');
    main.append(wait);
    const [me, all, courses] = await Promise.all([
      api('/gamification/me'), api('/achievements'), coursesCard(ctx, 1)]);
    if (!ctx.alive()) return;
    wait.remove();
    main.append(h('div', { class: 'grid-2' }, h('div', {}, courses), h('div', {}, scoreCard(me), achievementsCard(me, all))));
  },
};
