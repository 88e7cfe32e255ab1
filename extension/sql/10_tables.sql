-- The data model. Ranges the contract states are CHECK constraints; counters that reads need
-- are columns kept up to date by the write paths (never recomputed by scanning on a read).

CREATE TABLE lms.users (
  id bigserial PRIMARY KEY,
  email text NOT NULL UNIQUE
    CHECK (email = lower(email) AND length(email) <= 254 AND email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
  password_hash text NOT NULL,
  display_name text NOT NULL CHECK (length(btrim(display_name)) BETWEEN 1 AND 100),
  role text NOT NULL DEFAULT 'student' CHECK (role IN ('student', 'instructor', 'admin')),
  timezone text NOT NULL DEFAULT 'UTC' CHECK (lms.is_valid_timezone(timezone)),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  leaderboard_visible boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT lms.clock(),
  updated_at timestamptz NOT NULL DEFAULT lms.clock()
);

-- A login session: only the SHA-256 of the bearer token is stored.
CREATE TABLE lms.sessions (
  token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT lms.clock(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  CHECK (expires_at > created_at)
);
-- suspending a user revokes every live token
CREATE INDEX sessions_live_by_user ON lms.sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE lms.courses (
  id bigserial PRIMARY KEY,
  slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 120),
  title text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
  summary text NOT NULL DEFAULT '' CHECK (length(summary) <= 5000),
  category text CHECK (length(category) BETWEEN 1 AND 60),
  instructor_id bigint NOT NULL REFERENCES lms.users,
  is_published boolean NOT NULL DEFAULT false,
  capacity int CHECK (capacity > 0),
  enroll_opens_at timestamptz,
  enroll_closes_at timestamptz,
  access_days int CHECK (access_days > 0),
  -- counters maintained by the authoring and enrollment write paths
  lesson_count int NOT NULL DEFAULT 0 CHECK (lesson_count >= 0),               -- published lessons
  total_duration_seconds bigint NOT NULL DEFAULT 0 CHECK (total_duration_seconds >= 0),
  active_enrollments int NOT NULL DEFAULT 0 CHECK (active_enrollments >= 0),
  seats_taken int NOT NULL DEFAULT 0 CHECK (seats_taken >= 0),                 -- active + completed
  created_at timestamptz NOT NULL DEFAULT lms.clock(),
  updated_at timestamptz NOT NULL DEFAULT lms.clock(),
  CHECK (enroll_closes_at IS NULL OR enroll_opens_at IS NULL OR enroll_closes_at > enroll_opens_at),
  -- the last line of defence for capacity: the enroll path takes seats with a guarded UPDATE
  CHECK (capacity IS NULL OR seats_taken <= capacity)
);
CREATE INDEX courses_by_instructor ON lms.courses (instructor_id);

CREATE TABLE lms.course_prerequisites (
  course_id bigint NOT NULL REFERENCES lms.courses ON DELETE CASCADE,
  prerequisite_id bigint NOT NULL REFERENCES lms.courses ON DELETE CASCADE,
  PRIMARY KEY (course_id, prerequisite_id),
  CHECK (course_id <> prerequisite_id)
);

CREATE TABLE lms.modules (
  id bigserial PRIMARY KEY,
  course_id bigint NOT NULL REFERENCES lms.courses ON DELETE CASCADE,
  title text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
  position int NOT NULL CHECK (position >= 1),
  lesson_count int NOT NULL DEFAULT 0 CHECK (lesson_count >= 0),               -- published lessons
  created_at timestamptz NOT NULL DEFAULT lms.clock()
);
CREATE INDEX modules_by_course ON lms.modules (course_id, position);

CREATE TABLE lms.lessons (
  id bigserial PRIMARY KEY,
  module_id bigint NOT NULL REFERENCES lms.modules ON DELETE CASCADE,
  course_id bigint NOT NULL REFERENCES lms.courses ON DELETE CASCADE,          -- denormalized for O(1) checks
  title text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
  kind text NOT NULL CHECK (kind IN ('video', 'text', 'quiz')),
  position int NOT NULL CHECK (position >= 1),
  duration_seconds int NOT NULL DEFAULT 0 CHECK (duration_seconds >= 0),
  points int CHECK (points BETWEEN 0 AND 100000),   -- its author's; NULL: its kind's point rule
  is_preview boolean NOT NULL DEFAULT false,
  is_published boolean NOT NULL DEFAULT true,
  available_from timestamptz,
  content text,
  video_playback_id text CHECK (length(video_playback_id) <= 200),
  created_at timestamptz NOT NULL DEFAULT lms.clock(),
  updated_at timestamptz NOT NULL DEFAULT lms.clock()
);
CREATE INDEX lessons_by_module ON lms.lessons (module_id, position);
CREATE INDEX lessons_by_course ON lms.lessons (course_id);

CREATE TABLE lms.quizzes (
  id bigserial PRIMARY KEY,
  lesson_id bigint NOT NULL UNIQUE REFERENCES lms.lessons ON DELETE CASCADE,
  title text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
  pass_score int NOT NULL CHECK (pass_score BETWEEN 0 AND 100),
  max_attempts int CHECK (max_attempts >= 1),                                  -- NULL: unlimited
  created_at timestamptz NOT NULL DEFAULT lms.clock()
);

CREATE TABLE lms.quiz_questions (
  id bigserial PRIMARY KEY,
  quiz_id bigint NOT NULL REFERENCES lms.quizzes ON DELETE CASCADE,
  position int NOT NULL CHECK (position >= 1),
  prompt text NOT NULL CHECK (length(btrim(prompt)) >= 1),
  choices jsonb NOT NULL CHECK (jsonb_typeof(choices) = 'array' AND jsonb_array_length(choices) >= 2),
  answer int NOT NULL CHECK (answer >= 0 AND answer < jsonb_array_length(choices)),
  UNIQUE (quiz_id, position)
);

CREATE TABLE lms.enrollments (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  course_id bigint NOT NULL REFERENCES lms.courses ON DELETE CASCADE,
  -- 'active' past expires_at reads as 'expired' until the enroll path or a sweep stores it
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'dropped', 'expired')),
  completed_lessons int NOT NULL DEFAULT 0 CHECK (completed_lessons >= 0),     -- published lessons completed
  enrolled_at timestamptz NOT NULL DEFAULT lms.clock(),
  completed_at timestamptz,
  dropped_at timestamptz,
  expires_at timestamptz,
  last_activity_at timestamptz,
  last_lesson_id bigint,
  last_position_seconds int CHECK (last_position_seconds >= 0),
  UNIQUE (user_id, course_id),
  CHECK ((status = 'completed') = (completed_at IS NOT NULL) OR status = 'dropped' OR status = 'expired'),
  -- lms.hour_of(last_activity_at), written with it: the analytics' active learners count whole
  -- hours from lms.course_activity and this hour's learners through enrollments_active_hour
  last_active_hour bigint
);
CREATE INDEX enrollments_by_course ON lms.enrollments (course_id, status);
CREATE INDEX enrollments_active_hour ON lms.enrollments (course_id, last_active_hour)
  WHERE last_active_hour IS NOT NULL;
-- the seats held by enrollments past their access window, counted on reads and released on enroll
CREATE INDEX enrollments_overdue ON lms.enrollments (course_id, expires_at)
  WHERE status = 'active' AND expires_at IS NOT NULL;

CREATE TABLE lms.lesson_progress (
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  lesson_id bigint NOT NULL REFERENCES lms.lessons ON DELETE CASCADE,
  course_id bigint NOT NULL,
  module_id bigint NOT NULL,
  watched_seconds int NOT NULL DEFAULT 0 CHECK (watched_seconds >= 0),
  last_position_seconds int NOT NULL DEFAULT 0 CHECK (last_position_seconds >= 0),
  completion_percentage numeric(5,2) NOT NULL DEFAULT 0 CHECK (completion_percentage BETWEEN 0 AND 100),
  is_completed boolean NOT NULL DEFAULT false,
  completed_at timestamptz,
  started_at timestamptz NOT NULL DEFAULT lms.clock(),
  updated_at timestamptz NOT NULL DEFAULT lms.clock(),
  PRIMARY KEY (user_id, lesson_id),
  CHECK (is_completed = (completed_at IS NOT NULL))
);
-- per-lesson analytics and the counter fix-up when a lesson is (un)published
CREATE INDEX lesson_progress_by_lesson ON lms.lesson_progress (lesson_id);

-- Completed published lessons per learner and module: what the module breakdown reads.
CREATE TABLE lms.module_progress (
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  module_id bigint NOT NULL REFERENCES lms.modules ON DELETE CASCADE,
  completed_lessons int NOT NULL DEFAULT 0 CHECK (completed_lessons >= 0),
  PRIMARY KEY (user_id, module_id)
);

CREATE TABLE lms.quiz_attempts (
  id bigserial PRIMARY KEY,
  quiz_id bigint NOT NULL REFERENCES lms.quizzes ON DELETE CASCADE,
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  attempt_no int NOT NULL CHECK (attempt_no >= 1),
  answers jsonb NOT NULL,
  score numeric(5,2) NOT NULL CHECK (score BETWEEN 0 AND 100),
  passed boolean NOT NULL,
  created_at timestamptz NOT NULL DEFAULT lms.clock(),
  UNIQUE (quiz_id, user_id, attempt_no)
);

CREATE TABLE lms.certificates (
  id bigserial PRIMARY KEY,
  code text NOT NULL UNIQUE CHECK (length(code) >= 20),
  user_id bigint NOT NULL REFERENCES lms.users ON DELETE CASCADE,
  course_id bigint NOT NULL REFERENCES lms.courses ON DELETE CASCADE,
  issued_at timestamptz NOT NULL DEFAULT lms.clock(),
  UNIQUE (user_id, course_id)
);

CREATE TABLE lms.audit_log (
  id bigserial PRIMARY KEY,
  actor_id bigint REFERENCES lms.users ON DELETE SET NULL,
  action text NOT NULL,
  entity text NOT NULL,
  entity_id bigint,
  data jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT lms.clock()
);
