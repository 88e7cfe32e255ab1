-- realistic (wrk): the request mix of k6/realistic.js. wrk cannot follow one person through a
-- journey, so each request is drawn with the frequency it has in the k6 journeys
-- (population share x requests per journey), and each pause from the same mixture of pauses
-- (PROGRESS_INTERVAL s before a progress write, THINK_MIN..THINK_MAX s before anything else).
--   students 80 %:    login, list, course x2, enrollments/me, course progress, lesson,
--                     progress writes (a video takes WATCH_STEPS of them, a text lesson one:
--                     0.8 x 12 + 0.2 x 1 on average), gamification/me, global board, course board,
--                     league (leagues/me), group ladder (around=me)
--   instructors 15 %: login, my courses, analytics, roster, course, lesson edit
--   admins 5 %:       login, users, audit, performance
-- LOGIN=0 leaves the logins out (the gateway limits them per client: 5 a minute by default).
package.path = (os.getenv("LMS_LOADTEST_DIR") or "bench/loadtest") .. "/?.lua;" .. package.path
local c = require("common")
local S = {}
local learners, instructors, admins
local think = c.env("THINK", "1") ~= "0"
local tmin, tmax = c.num("THINK_MIN", 1) * 1000, c.num("THINK_MAX", 3) * 1000
local interval = c.num("PROGRESS_INTERVAL", 5) * 1000
local steps = c.num("WATCH_STEPS", 12)
local login = c.env("LOGIN", "1") ~= "0" and 1 or 0
local password = c.env("PASSWORD", "password123")
local pages = 1       -- catalog pages among the first three that exist (courses.txt)

local function body_login(u)
  return string.format('{"email":"%s","password":"%s"}', u.email, password)
end

-- kind -> { weight, builder }
local kinds = {}
local function kind(name, share, per_journey, build)
  kinds[#kinds + 1] = { name = name, w = share * per_journey, build = build }
end

kind("student login", 0.80, login, function(l) return c.request("POST", "/api/v1/auth/login", body_login(l), nil, "POST /auth/login") end)
kind("student list", 0.80, 1, function() return c.request("GET", "/api/v1/courses?page=" .. math.random(pages) .. "&limit=20", nil, nil, "GET /courses") end)
kind("student course", 0.80, 2, function(l) return c.request("GET", "/api/v1/courses/" .. l.course_id, nil, l.token, "GET /courses/:id") end)
kind("student enrollments", 0.80, 1, function(l) return c.request("GET", "/api/v1/enrollments/me?status=active&limit=20", nil, l.token, "GET /enrollments/me") end)
kind("student progress read", 0.80, 1, function(l) return c.request("GET", "/api/v1/progress/courses/" .. l.course_id, nil, l.token, "GET /progress/courses/:id") end)
kind("student lesson", 0.80, 1, function(l) return c.request("GET", "/api/v1/lessons/" .. c.pick(l.lessons), nil, l.token, "GET /lessons/:id") end)
kind("student progress write", 0.80, 0.8 * steps + 0.2, function(l)
  l.n = (l.n or 0) + 1
  l.current = l.current or (1 + tonumber(l.user_id) % #l.lessons)
  local pct = math.min(100, math.floor(100 * l.n / steps + 0.5))
  local lesson = l.lessons[l.current]
  if l.n >= steps then l.n = 0; l.current = l.current % #l.lessons + 1 end
  local sec = math.floor(600 * pct / 100)
  return c.request("POST", "/api/v1/progress/lessons/" .. lesson,
    string.format('{"watched_seconds":%d,"last_position_seconds":%d,"completion_percentage":%d}', sec, sec, pct),
    l.token, "POST /progress/lessons/:id")
end)
kind("student points", 0.80, 1, function(l) return c.request("GET", "/api/v1/gamification/me", nil, l.token, "GET /gamification/me") end)
kind("student board", 0.80, 1, function(l) return c.request("GET", "/api/v1/leaderboards/global?window=week&around=me&limit=10", nil, l.token, "GET /leaderboards/global") end)
kind("student course board", 0.80, 1, function(l) return c.request("GET", "/api/v1/leaderboards/courses/" .. l.course_id .. "?limit=10", nil, nil, "GET /leaderboards/courses/:id") end)
kind("student league", 0.80, 1, function(l) return c.request("GET", "/api/v1/leagues/me", nil, l.token, "GET /leagues/me") end)
kind("student group ladder", 0.80, 1, function(l) return c.request("GET", "/api/v1/leaderboards/groups?around=me", nil, l.token, "GET /leaderboards/groups") end)

kind("instructor login", 0.15, login, function(_, i) return c.request("POST", "/api/v1/auth/login", body_login(i), nil, "POST /auth/login") end)
kind("instructor courses", 0.15, 1, function(_, i) return c.request("GET", "/api/v1/courses?mine=true&limit=20", nil, i.token, "GET /courses?mine") end)
kind("instructor analytics", 0.15, 1, function(_, i) return c.request("GET", "/api/v1/courses/" .. i.course_id .. "/analytics", nil, i.token, "GET /courses/:id/analytics") end)
kind("instructor roster", 0.15, 1, function(_, i) return c.request("GET", "/api/v1/courses/" .. i.course_id .. "/students?limit=20", nil, i.token, "GET /courses/:id/students") end)
kind("instructor course", 0.15, 1, function(_, i) return c.request("GET", "/api/v1/courses/" .. i.course_id, nil, i.token, "GET /courses/:id") end)
kind("instructor edit", 0.15, 1, function(_, i)
  local lesson = c.pick(i.lessons)
  return c.request("PATCH", "/api/v1/lessons/" .. lesson, string.format('{"title":"Lesson %s"}', lesson), i.token, "PATCH /lessons/:id")
end)

kind("admin login", 0.05, login, function(_, _, a) return c.request("POST", "/api/v1/auth/login", body_login(a), nil, "POST /auth/login") end)
kind("admin users", 0.05, 1, function(_, _, a) return c.request("GET", "/api/v1/admin/users?page=" .. math.random(5) .. "&limit=20", nil, a.token, "GET /admin/users") end)
kind("admin audit", 0.05, 1, function(_, _, a) return c.request("GET", "/api/v1/admin/audit?limit=20", nil, a.token, "GET /admin/audit") end)
kind("admin performance", 0.05, 1, function(_, _, a) return c.request("GET", "/api/v1/admin/performance", nil, a.token, "GET /admin/performance") end)

local total_w, progress_share = 0, 0
for _, k in ipairs(kinds) do
  total_w = total_w + k.w
  if k.name == "student progress write" then progress_share = k.w end
end
progress_share = progress_share / total_w

function S.init(thread_no, threads)
  learners = {}
  for _, l in ipairs(c.learners(thread_no, threads)) do
    if #l.lessons > 0 then learners[#learners + 1] = l end
  end
  instructors = c.staff("instructor")
  admins = c.staff("admin")
  local n = 0
  for _ in io.lines(c.env("LMS_POOL_DIR", "/tmp/lms-loadtest") .. "/courses.txt") do n = n + 1 end
  pages = math.max(1, math.min(3, math.ceil(n / 20)))
end

function S.next_request()
  local r = math.random() * total_w
  for _, k in ipairs(kinds) do
    r = r - k.w
    if r <= 0 then return k.build(c.pick(learners), c.pick(instructors), c.pick(admins)) end
  end
  return kinds[1].build(c.pick(learners), c.pick(instructors), c.pick(admins))
end

if think then
  function S.think_ms()
    if math.random() < progress_share then return interval end
    return tmin + math.random() * (tmax - tmin)
  end
end

c.install(S)
