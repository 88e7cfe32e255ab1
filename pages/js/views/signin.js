// #/signin — email and password; afterwards to where the user came from, or their start page.

import { navigate } from '../router.js';
import { homeFor, session, signIn } from '../session.js';
import { h, problemBox } from '../ui.js';

export default {
  path: '/signin',
  title: 'Sign in',
  render({ main, query }) {
    const email = h('input', { id: 'email', name: 'email', type: 'email', autocomplete: 'username', required: true });
    const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const message = h('div', { id: 'signin-message' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Sign in');
    const form = h('form', { class: 'card narrow', id: 'signin-form', novalidate: false },
      h('h1', {}, 'Sign in'),
      query.why === 'expired' ? h('p', { class: 'notice', role: 'status' }, 'Your session has ended. Sign in again to go on.') : null,
      session.user ? h('p', { class: 'notice' }, `Signed in as ${session.user.display_name}. `, h('a', { href: `#${homeFor(session.user)}` }, 'Go on')) : null,
      h('label', { class: 'field', for: 'email' }, h('span', {}, 'Email'), email),
      h('label', { class: 'field', for: 'password' }, h('span', {}, 'Password'), password),
      message,
      submit,
      h('p', { class: 'muted small' }, 'Demo accounts: learner1@example.com … learner300@example.com, instructor1@example.com, admin@example.com; password password123.'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      message.replaceChildren();
      submit.disabled = true;
      try {
        const user = await signIn(email.value.trim(), password.value);
        const next = query.next && query.next.startsWith('/') && !query.next.startsWith('/signin') ? query.next : homeFor(user);
        const [path, qs] = next.split('?');
        navigate(path, Object.fromEntries(new URLSearchParams(qs || '')));
      } catch (err) {
        message.append(problemBox(err, { heading: err.status === 401 ? 'Wrong email or password' : undefined }));
        submit.disabled = false;
        password.select();
      }
    });
    main.append(form);
    email.focus();
  },
};
