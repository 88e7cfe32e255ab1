// #/learn/courses/:id — one course for a learner: outline (GET /courses/{id}), my progress by
// module (GET /progress/courses/{id}), enroll (POST /courses/{id}/enroll), certificate
// (POST /certificates/courses/{id}) once completed.

import { api } from '../api.js';
import * as fmt from '../format.js';
import { href } from '../router.js';
import { session } from '../session.js';
import { badge, card, h, problemBox, progressBar, toast } from '../ui.js';

const KIND = { video: 'Video', text: 'Reading', quiz: 'Quiz' };

/** Every lesson of a course document in course order (module, then lesson position). */
export function lessonsInOrder(course) {
  return (course.modules || []).flatMap((m) => (m.lessons || []).map((l) => ({ ...l, module_title: m.title })));
}

async function loadProgress(id) {
  if (!session.user) return { progress: null, problem: null };
  try {
    return { progress: await api(`/progress/courses/${id}`), problem: null };
  } catch (err) {
    if (err.status === 403 || err.status === 404) return { progress: null, problem: err };
    throw err;
  }
}

export default {
  path: '/learn/courses/:id',
  title: 'Course',
  async render(ctx) {
    const { main, params } = ctx;
    const [course, { progress, problem }] = await Promise.all([api(`/courses/${params.id}`), loadProgress(params.id)]);
    if (!ctx.alive()) return;
    ctx.setTitle(course.title);
    const byModule = new Map((progress?.modules || []).map((m) => [m.module_id, m]));
    const actions = h('div', { class: 'actions', id: 'course-actions' });
    main.append(
      h('p', { class: 'crumbs' }, h('a', { href: '#/learn' }, 'My learning'), ' / ', h('a', { href: '#/courses' }, 'Courses')),
      h('h1', {}, course.title),
      h('p', {}, course.summary || ''),
      h('p', { class: 'muted small' }, `${course.lesson_count} lessons · ${fmt.duration(course.total_duration_seconds)} · by ${course.instructor.display_name}`),
      actions);

    if (progress) {
      main.append(card('My progress',
        h('p', { class: 'bar-caption' }, `${progress.completed_lessons} of ${progress.total_lessons} lessons · `, badge(progress.status)),
        progressBar(progress.progress_percentage, { label: 'Course progress', id: 'course-bar' })));
      if (progress.last_lesson_id) {
        actions.append(h('a', { class: 'btn btn-primary', href: href(`/learn/lessons/${progress.last_lesson_id}`) }, 'Continue where I stopped'));
      }
      if (progress.status === 'completed') actions.append(certificateButton(course));
      actions.append(h('a', { class: 'btn', href: href('/boards', { board: `course:${course.id}` }) }, 'Course leaderboard'));
    } else if (session.user) {
      const enroll = h('button', { type: 'button', class: 'btn btn-primary', id: 'enroll' }, 'Enroll');
      const msg = h('div');
      enroll.addEventListener('click', async () => {
        enroll.disabled = true;
        msg.replaceChildren();
        try {
          await api(`/courses/${course.id}/enroll`, { method: 'POST' });
          toast(`Enrolled in ${course.title}`);
          window.dispatchEvent(new HashChangeEvent('hashchange'));
        } catch (err) {
          msg.append(problemBox(err));
          enroll.disabled = false;
        }
      });
      actions.append(enroll, msg);
      if (problem && problem.code !== 'not_enrolled') actions.append(problemBox(problem));
    } else {
      actions.append(h('a', { class: 'btn btn-primary', href: href('/signin', { next: `/learn/courses/${course.id}` }) }, 'Sign in to enroll'));
    }

    for (const m of course.modules || []) {
      const mp = byModule.get(m.id);
      main.append(card(m.title,
        mp ? progressBar(mp.progress_percentage, { label: `Progress in ${m.title}` }) : null,
        h('ol', { class: 'lessons' }, (m.lessons || []).map((l) => h('li', {},
          progress || l.is_preview
            ? h('a', { href: href(`/learn/lessons/${l.id}`) }, l.title) : h('span', {}, l.title),
          ' ', h('span', { class: 'muted small' }, `${KIND[l.kind] || l.kind} · ${fmt.clock(l.duration_seconds)} · ${l.points} points`),
          l.is_preview && !progress ? badge('preview') : null,
          l.id === progress?.last_lesson_id ? badge('last seen', 'info') : null)))));
    }
  },
};

function certificateButton(course) {
  const out = h('span');
  const btn = h('button', { type: 'button', class: 'btn', id: 'certificate' }, 'Get my certificate');
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    try {
      const cert = await api(`/certificates/courses/${course.id}`, { method: 'POST' });
      out.replaceChildren(h('span', { class: 'notice' }, `Certificate ${cert.code}, issued ${fmt.dateTime(cert.issued_at)}. Anyone can check it at `,
        h('code', {}, `/api/v1/certificates/${cert.code}`)));
    } catch (err) {
      out.replaceChildren(problemBox(err));
      btn.disabled = false;
    }
  });
  return h('span', {}, btn, out);
}
