// #/operate/audit — the audit log, newest first, with cursor paging (GET /admin/audit
// ?after=<cursor>&limit=). The cursors already visited are kept in the hash, so "Newer"
// goes back exactly one page and every page has an address.

import { api } from '../api.js';
import * as fmt from '../format.js';
import { navigate } from '../router.js';
import { h, table } from '../ui.js';

const LIMIT = 25;

export default {
  path: '/operate/audit',
  title: 'Audit log',
  roles: ['admin'],
  async render({ main, query }) {
    const trail = (query.trail || '').split(',').filter(Boolean); // cursors of the pages before this one
    const after = trail[trail.length - 1];
    const page = await api('/admin/audit', { query: { after, limit: LIMIT } });
    main.append(h('p', { class: 'crumbs' }, h('a', { href: '#/operate' }, 'Operations')),
      h('h1', {}, 'Audit log'),
      table([
        { label: 'When', cell: (r) => fmt.dateTime(r.created_at) },
        { label: 'Actor', cell: (r) => (r.actor_id === null ? '–' : `user ${r.actor_id}`), class: 'num' },
        { label: 'Action', cell: (r) => h('code', {}, r.action) },
        { label: 'Entity', cell: (r) => `${r.entity} ${r.entity_id ?? ''}` },
        { label: 'Data', cell: (r) => h('code', { class: 'query' }, JSON.stringify(r.data)) },
      ], page.items, { caption: `Audit entries, page ${trail.length + 1}`, empty: 'No entries.' }),
      h('nav', { class: 'pager', 'aria-label': 'Audit pages' },
        h('button', { type: 'button', class: 'btn', id: 'audit-newer', disabled: !trail.length, onclick: () => navigate('/operate/audit', { trail: trail.slice(0, -1).join(',') }) }, '← Newer'),
        h('span', { class: 'muted' }, `Page ${trail.length + 1}`),
        h('button', { type: 'button', class: 'btn', id: 'audit-older', disabled: !page.next_cursor, onclick: () => navigate('/operate/audit', { trail: [...trail, page.next_cursor].join(',') }) }, 'Older →')));
  },
};
