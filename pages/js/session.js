// session.js — who is signed in, as far as the pages need to know.
//
// The credential itself is the HttpOnly cookie the gateway sets on sign-in; the pages keep
// only the `user` document (id, name, role) to draw the navigation without a round trip.
// It is refreshed from GET /users/me at start, and dropped on sign-out or on any 401.

import { api } from './api.js';

const KEY = 'lms.user';

export const session = { user: null };

export function loadUser() {
  try {
    session.user = JSON.parse(localStorage.getItem(KEY) || 'null');
  } catch {
    session.user = null;
  }
  return session.user;
}

export function setUser(user) {
  session.user = user;
  if (user) localStorage.setItem(KEY, JSON.stringify(user));
  else localStorage.removeItem(KEY);
}

/** Where a role starts: learners learn, instructors teach, admins operate. */
export function homeFor(user) {
  if (!user) return '/signin';
  return { admin: '/operate', instructor: '/teach' }[user.role] || '/learn';
}

/** Whether the signed-in user may open a view with `roles` (undefined = anyone). */
export function allowed(roles, user = session.user) {
  if (!roles) return true;
  return !!user && roles.includes(user.role);
}

export async function signIn(email, password) {
  const res = await api('/auth/login', { method: 'POST', body: { email, password }, signIn: true });
  setUser(res.user);
  return res.user;
}

export async function signOut() {
  try {
    await api('/auth/logout', { method: 'POST', signIn: true });
  } finally {
    setUser(null);
  }
}
