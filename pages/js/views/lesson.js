// #/learn/lessons/:id — one lesson: a video player that reports progress the way a real one
// does (every 5 s while playing, and on pause, seek, end and leaving), a reading with
// "mark as complete", or a quiz. Every write is POST /progress/lessons/{id} (or a quiz
// attempt); its answer moves the course bar, the points, level and streak on the page. The
// server decides what completes a lesson and what it is worth; the page only reports.

import { api } from '../api.js';
import * as fmt from '../format.js';
import { href } from '../router.js';
import { badge, h, problemBox, progressBar, setProgress, toast } from '../ui.js';
import { lessonsInOrder } from './course.js';

export const REPORT_EVERY_MS = 5000;
const TICK_MS = 250;

/** The page parts that every progress answer updates. */
function progressPanel(progress, lesson) {
  const bar = progressBar(progress ? progress.progress_percentage : 0, { label: 'Course progress', id: 'course-bar' });
  const caption = h('p', { class: 'bar-caption', id: 'course-caption' },
    progress ? `${progress.completed_lessons} of ${progress.total_lessons} lessons completed` : '');
  const done = h('span', { id: 'lesson-state' }, lesson.progress?.is_completed ? badge('completed') : badge('not completed yet', 'muted'));
  const score = h('p', { class: 'score-strip', id: 'score-strip', 'aria-live': 'polite' });
  return {
    el: h('section', { class: 'card progress-panel', 'aria-label': 'Progress' }, caption, bar, h('p', {}, 'This lesson: ', done), score),
    apply(res) {
      setProgress(bar, res.course.progress_percentage);
      caption.textContent = `${res.course.completed_lessons} of ${res.course.total_lessons} lessons completed`;
      if (res.lesson.is_completed) done.replaceChildren(badge('completed'));
      score.textContent = `${fmt.num(res.total_points)} points · level ${res.level} · ${res.streak.current}-day streak`;
      if (res.points_awarded > 0) toast(`+${res.points_awarded} points`);
      for (const a of res.new_achievements || []) toast(`Achievement unlocked: ${a.title} (+${a.points})`, { kind: 'success', ms: 8000 });
      if (res.course.status === 'completed' && res.course.completed_lessons === res.course.total_lessons && res.points_awarded > 0) {
        toast('Course completed! Your certificate is waiting on the course page.', { kind: 'success', ms: 8000 });
      }
    },
  };
}

/**
 * A stand-in video player (the demo has no media files): play/pause, seek, speed. It keeps
 * the position and the seconds actually played, and reports them like a streaming player.
 */
function videoPlayer(lesson, panel) {
  const duration = Math.max(1, lesson.duration_seconds || 1);
  let position = Math.min(lesson.progress?.last_position_seconds || 0, duration);
  let watched = Math.min(lesson.progress?.watched_seconds || 0, duration);
  let playing = false;
  let speed = 1;
  let timer = null;
  let lastTick = 0;
  let lastReport = 0;
  let inFlight = null;
  let dirty = false;

  const time = h('span', { class: 'player-time', id: 'player-time' });
  const seek = h('input', { type: 'range', id: 'seek', min: 0, max: duration, step: 1, value: Math.round(position), 'aria-label': 'Position' });
  const play = h('button', { type: 'button', class: 'btn btn-primary', id: 'play' }, 'Play');
  const speedSel = h('select', { id: 'speed', 'aria-label': 'Speed' }, [1, 2, 4, 8, 16].map((x) => h('option', { value: x }, `${x}×`)));
  const status = h('p', { class: 'muted small', id: 'save-status', 'aria-live': 'polite' });
  const screen = h('div', { class: 'player-screen', 'aria-hidden': 'true' }, h('span', {}, '▶'), h('span', { class: 'small' }, lesson.video_playback_id || 'video'));
  const watchedBar = progressBar(watched, { max: duration, label: 'Watched', id: 'watched-bar', text: `watched ${fmt.clock(watched)}` });

  function draw() {
    time.textContent = `${fmt.clock(position)} / ${fmt.clock(duration)}`;
    seek.value = String(Math.round(position));
    play.textContent = playing ? 'Pause' : position >= duration ? 'Replay' : 'Play';
    play.setAttribute('aria-pressed', String(playing));
    setProgress(watchedBar, watched, { max: duration, text: `watched ${fmt.clock(watched)}` });
  }

  async function report({ keepalive = false } = {}) {
    if (inFlight && !keepalive) { dirty = true; return inFlight; }
    lastReport = performance.now();
    const body = {
      watched_seconds: Math.round(watched),
      last_position_seconds: Math.round(position),
      completion_percentage: Math.min(100, Math.round((watched / duration) * 10000) / 100),
    };
    inFlight = api(`/progress/lessons/${lesson.id}`, { method: 'POST', body, keepalive })
      .then((res) => {
        panel.apply(res);
        status.textContent = `Progress saved at ${new Date().toLocaleTimeString('en')}`;
      })
      .catch((err) => {
        status.replaceChildren(problemBox(err, { heading: 'Progress not saved' }));
      })
      .finally(() => {
        inFlight = null;
        if (dirty) { dirty = false; report(); }
      });
    return inFlight;
  }

  function tick() {
    const now = performance.now();
    const dt = ((now - lastTick) / 1000) * speed;
    lastTick = now;
    const step = Math.min(dt, duration - position);
    position += step;
    watched = Math.min(duration, watched + step);
    if (position >= duration) {
      pause();
      return;
    }
    if (now - lastReport >= REPORT_EVERY_MS) report();
    draw();
  }

  function start() {
    if (position >= duration) position = 0;
    playing = true;
    lastTick = performance.now();
    lastReport = lastTick;
    timer = setInterval(tick, TICK_MS);
    draw();
  }

  function pause() {
    if (!playing) return;
    playing = false;
    clearInterval(timer);
    timer = null;
    draw();
    report();
  }

  play.addEventListener('click', () => (playing ? pause() : start()));
  speedSel.addEventListener('change', () => { speed = Number(speedSel.value); });
  seek.addEventListener('input', () => { position = Number(seek.value); draw(); });
  seek.addEventListener('change', () => { position = Number(seek.value); draw(); report(); });
  draw();

  return {
    el: h('section', { class: 'card player', 'aria-label': 'Video player' }, screen,
      h('div', { class: 'player-controls' }, play, seek, time, h('label', { class: 'field inline' }, h('span', {}, 'Speed'), speedSel)),
      watchedBar, status),
    cleanup() {
      const was = playing;
      if (timer) clearInterval(timer);
      playing = false;
      if (was) report({ keepalive: true });
    },
  };
}

/** A reading: its text and a button that marks it complete (`completed: true`). */
function reading(lesson, panel) {
  const status = h('div', { id: 'save-status', 'aria-live': 'polite' });
  const done = lesson.progress?.is_completed;
  const btn = h('button', { type: 'button', class: 'btn btn-primary', id: 'complete', disabled: done }, done ? 'Completed' : 'Mark as complete');
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    status.replaceChildren();
    try {
      const res = await api(`/progress/lessons/${lesson.id}`, {
        method: 'POST',
        body: { watched_seconds: 0, last_position_seconds: 0, completion_percentage: 100, completed: true },
      });
      panel.apply(res);
      btn.textContent = 'Completed';
    } catch (err) {
      status.append(problemBox(err));
      btn.disabled = false;
    }
  });
  return {
    el: h('section', { class: 'card reading' }, (lesson.content || '').split(/\n{2,}/).map((p) => h('p', {}, p)), btn, status),
  };
}

/** A quiz: its questions (GET /quizzes/{id}) as radio groups, one attempt per submit. */
async function quiz(lesson, panel, refreshProgress) {
  if (!lesson.quiz_id) return { el: h('p', { class: 'muted' }, 'This quiz has no questions yet.') };
  const q = await api(`/quizzes/${lesson.quiz_id}`);
  const result = h('div', { id: 'quiz-result', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Submit answers');
  const form = h('form', { class: 'card quiz', id: 'quiz-form' },
    h('h2', {}, q.title),
    h('p', { class: 'muted small' }, `Pass mark ${q.pass_score} %${q.max_attempts ? ` · at most ${q.max_attempts} attempts` : ''}`),
    q.questions.map((qq, i) => h('fieldset', {}, h('legend', {}, `${i + 1}. ${qq.prompt}`),
      qq.choices.map((c, ci) => h('label', { class: 'radio' }, h('input', { type: 'radio', name: `q${qq.id}`, value: ci, required: true }), ` ${c}`)))),
    submit, result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const answers = {};
    for (const qq of q.questions) {
      const picked = form.querySelector(`input[name="q${qq.id}"]:checked`);
      if (picked) answers[qq.id] = Number(picked.value);
    }
    submit.disabled = true;
    result.replaceChildren();
    try {
      const r = await api(`/quizzes/${q.id}/attempts`, { method: 'POST', body: { answers } });
      result.append(h('p', { class: r.passed ? 'notice' : 'problem' },
        `${r.passed ? 'Passed' : 'Not passed'}: ${r.score} % (attempt ${r.attempts_used}${q.max_attempts ? ` of ${q.max_attempts}` : ''})`,
        r.points_awarded ? ` · +${r.points_awarded} points` : ''));
      if (r.lesson_completed) await refreshProgress();
    } catch (err) {
      result.append(problemBox(err));
    }
    submit.disabled = false;
  });
  return { el: form };
}

export default {
  path: '/learn/lessons/:id',
  title: 'Lesson',
  roles: ['student', 'instructor', 'admin'],
  async render(ctx) {
    const { main, params } = ctx;
    const lesson = await api(`/lessons/${params.id}`);
    const [course, progress] = await Promise.all([
      api(`/courses/${lesson.course_id}`),
      api(`/progress/courses/${lesson.course_id}`).catch((err) => { if (err.status === 403) return null; throw err; })]);
    if (!ctx.alive()) return undefined;
    ctx.setTitle(lesson.title);
    const order = lessonsInOrder(course);
    const at = order.findIndex((l) => l.id === lesson.id);
    const prev = order[at - 1];
    const next = order[at + 1];
    const panel = progressPanel(progress, lesson);
    const refreshProgress = async () => {
      const p = await api(`/progress/courses/${lesson.course_id}`);
      const me = await api('/gamification/me');
      panel.apply({ course: p, lesson: { is_completed: true }, total_points: me.total_points, level: me.level, streak: { current: me.current_streak }, points_awarded: 0, new_achievements: [] });
    };
    let body;
    if (lesson.kind === 'video') body = videoPlayer(lesson, panel);
    else if (lesson.kind === 'quiz') body = await quiz(lesson, panel, refreshProgress);
    else body = reading(lesson, panel);
    if (!ctx.alive()) return body.cleanup;
    main.append(
      h('p', { class: 'crumbs' }, h('a', { href: href(`/learn/courses/${course.id}`) }, course.title), ` / ${order[at]?.module_title || ''}`),
      h('h1', {}, lesson.title),
      h('p', { class: 'muted small' }, `${{ video: 'Video', text: 'Reading', quiz: 'Quiz' }[lesson.kind]} · ${fmt.clock(lesson.duration_seconds)} · ${lesson.points} points`),
      progress ? panel.el : h('p', { class: 'notice' }, 'You are previewing this lesson. Enroll to save your progress.'),
      body.el,
      h('nav', { class: 'pager', 'aria-label': 'Lessons' },
        prev ? h('a', { class: 'btn', href: href(`/learn/lessons/${prev.id}`) }, `← ${prev.title}`) : h('span'),
        next ? h('a', { class: 'btn', href: href(`/learn/lessons/${next.id}`), id: 'next-lesson' }, `${next.title} →`) : h('span')));
    return body.cleanup;
  },
};
