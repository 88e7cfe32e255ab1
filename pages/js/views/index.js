// views/index.js — every page of the app, in one list.
//
// A view is { path, title, roles?, nav?: {label, order, path?}, render(ctx) }:
//   path   hash route, may hold :params (router.js)
//   roles  the roles that may open it (absent = anyone, signed in or not)
//   nav    present when it has a link in the top navigation
//   render(ctx) fills ctx.main ({main, params, query, user, alive(), setTitle()}) and may
//          return a cleanup function run when the user leaves.
// To add a page (a league table, a dashboard), write one module beside these and list it here.

import signin from './signin.js';
import learn from './learn.js';
import catalog from './catalog.js';
import course from './course.js';
import lesson from './lesson.js';
import boards from './boards.js';
import teach from './teach.js';
import teachCourse from './teach-course.js';
import operate from './operate.js';
import audit from './audit.js';

export default [signin, learn, catalog, course, lesson, boards, teach, teachCourse, operate, audit];
