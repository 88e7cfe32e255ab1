// #/teach — an instructor's courses (GET /courses?mine=true, drafts included); an admin sees the
// published catalog. Each leads to its analytics page.

import { api } from '../api.js';
import * as fmt from '../format.js';
import { href, navigate } from '../router.js';
import { badge, h, pager, table } from '../ui.js';

export default {
  path: '/teach',
  title: 'My courses',
  roles: ['instructor', 'admin'],
  nav: { label: 'Teach', order: 40 },
  async render({ main, query, user }) {
    const page = Number(query.page) || 1;
    const list = await api('/courses', { query: { page, limit: 20, mine: user.role === 'instructor' ? 'true' : undefined } });
    main.append(h('h1', {}, user.role === 'instructor' ? 'My courses' : 'Courses'),
      table([
        { label: 'Course', cell: (c) => h('a', { href: href(`/teach/courses/${c.id}`) }, c.title) },
        { label: 'State', cell: (c) => (c.is_published ? badge('published') : badge('draft')) },
        { label: 'Lessons', cell: (c) => c.lesson_count, class: 'num' },
        { label: 'Learners', cell: (c) => fmt.num(c.enrollment_count), class: 'num' },
        { label: 'Seats left', cell: (c) => (c.seats_left === null ? '–' : c.seats_left), class: 'num' },
        { label: 'Updated', cell: (c) => fmt.dateTime(c.updated_at) },
      ], list.items, { caption: 'Courses and their learners', empty: 'No course yet.' }));
    if (list.total > list.limit) main.append(pager(list, (p) => navigate('/teach', { page: p })));
  },
};
