// #/courses — the published catalog (GET /courses ?q, category, page), with search.

import { api } from '../api.js';
import * as fmt from '../format.js';
import { href, navigate } from '../router.js';
import { h, pager } from '../ui.js';

export default {
  path: '/courses',
  title: 'Courses',
  nav: { label: 'Courses', order: 20 },
  async render({ main, query }) {
    const page = Number(query.page) || 1;
    const q = query.q || '';
    const search = h('input', { type: 'search', id: 'course-search', name: 'q', value: q, placeholder: 'title or summary' });
    const form = h('form', { class: 'toolbar', role: 'search' },
      h('label', { class: 'field inline', for: 'course-search' }, h('span', {}, 'Search'), search),
      h('button', { type: 'submit', class: 'btn' }, 'Search'));
    form.addEventListener('submit', (e) => { e.preventDefault(); navigate('/courses', { q: search.value.trim() }); });
    main.append(h('h1', {}, 'Courses'), form);
    const list = await api('/courses', { query: { page, limit: 12, q } });
    if (!list.items.length) {
      main.append(h('p', { class: 'muted' }, 'No course matches.'));
      return;
    }
    main.append(h('ul', { class: 'cards' }, list.items.map((c) => h('li', { class: 'card course-card' },
      h('h2', {}, h('a', { href: href(`/learn/courses/${c.id}`) }, c.title)),
      h('p', {}, c.summary || ''),
      h('p', { class: 'muted small' }, [
        c.category, `${c.lesson_count} lessons`, fmt.duration(c.total_duration_seconds),
        `${fmt.num(c.enrollment_count)} learners`, c.seats_left !== null ? `${c.seats_left} seats left` : null,
        `by ${c.instructor.display_name}`].filter(Boolean).join(' · '))))));
    if (list.total > list.limit) main.append(pager(list, (p) => navigate('/courses', { q, page: p })));
  },
};
