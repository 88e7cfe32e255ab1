// #/teach/courses/:id — one course for its instructor: the figures and per-lesson counts of
// GET /courses/{id}/analytics as tiles, a started/completed chart and a completion funnel,
// and the roster (GET /courses/{id}/students) with a status filter and paging.

import { api } from '../api.js';
import { barChart, funnel } from '../charts.js';
import * as fmt from '../format.js';
import { navigate } from '../router.js';
import { badge, card, h, pager, progressBar, select, stat, table } from '../ui.js';

const STATUSES = [{ value: '', label: 'Every status' }, { value: 'active', label: 'Active' }, { value: 'completed', label: 'Completed' },
  { value: 'dropped', label: 'Dropped' }, { value: 'expired', label: 'Expired' }];

export default {
  path: '/teach/courses/:id',
  title: 'Course analytics',
  roles: ['instructor', 'admin'],
  async render(ctx) {
    const { main, params, query } = ctx;
    const id = params.id;
    const status = query.status || '';
    const page = Number(query.page) || 1;
    const [course, a, roster] = await Promise.all([
      api(`/courses/${id}`),
      api(`/courses/${id}/analytics`),
      api(`/courses/${id}/students`, { query: { page, limit: 20, status } })]);
    if (!ctx.alive()) return;
    ctx.setTitle(`${course.title}: analytics`);
    const lessons = a.lessons || [];
    const modulePos = new Map((course.modules || []).map((m) => [m.id, m.position]));
    const short = (l) => `${modulePos.get(l.module_id) ?? ''}.${l.position}`;

    main.append(
      h('p', { class: 'crumbs' }, h('a', { href: '#/teach' }, 'My courses')),
      h('h1', {}, course.title),
      h('div', { class: 'stats card' },
        stat('enrolled', fmt.num(a.enrollments.total), { id: 'stat-enrolled' }),
        stat('active', fmt.num(a.enrollments.active)),
        stat('completed', fmt.num(a.enrollments.completed)),
        stat('dropped', fmt.num(a.enrollments.dropped)),
        stat('completion rate', fmt.pct(a.completion_rate)),
        stat('average progress', fmt.pct(a.average_progress)),
        stat('active last 7 days', fmt.num(a.active_learners_7d)),
        stat('points awarded', fmt.num(a.points_awarded_total))));

    main.append(h('div', { class: 'grid-2' },
      card(null, barChart({
        title: 'Learners who started and completed each lesson',
        desc: `${lessons.length} lessons in course order; for each, the learners who started it and those who completed it.`,
        categories: lessons.map((l) => ({ label: short(l), title: `${short(l)} ${l.title}` })),
        series: [{ name: 'started', values: lessons.map((l) => l.started) }, { name: 'completed', values: lessons.map((l) => l.completed) }],
      })),
      card(null, funnel({
        title: 'Completion funnel: learners at each step, in course order',
        steps: [{ label: 'Enrolled', value: a.enrollments.total },
          ...lessons.map((l) => ({ label: `${short(l)} ${l.title}`, value: l.completed })),
          { label: 'Completed the course', value: a.enrollments.completed }],
      }))));

    const go = (change) => navigate(`/teach/courses/${id}`, { status, page, ...change });
    main.append(card('Learners',
      h('div', { class: 'toolbar' }, select('Status', STATUSES, status, (v) => go({ status: v, page: 1 }), { id: 'roster-status' })),
      table([
        { label: 'Learner', cell: (r) => r.display_name },
        { label: 'Status', cell: (r) => badge(r.status) },
        { label: 'Progress', cell: (r) => progressBar(r.progress_percentage, { label: `Progress of ${r.display_name}` }) },
        { label: 'Last activity', cell: (r) => fmt.ago(r.last_activity_at) },
      ], roster.items, { caption: `Learners${status ? ` (${status})` : ''}`, empty: 'No learner with this status.' }),
      h('div', { id: 'roster-pager' }, pager(roster, (p) => go({ page: p })))));
  },
};
