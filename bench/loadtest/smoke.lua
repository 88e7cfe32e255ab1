-- smoke (wrk): every main read route and the progress write in turn, one after the other, with
-- a pooled learner, instructor and admin; every answer must be the expected status. The wrk
-- counterpart of k6/smoke.js for CI (bench/loadtest/run.sh smoke; tests/loadtest/run.sh).
package.path = (os.getenv("LMS_LOADTEST_DIR") or "bench/loadtest") .. "/?.lua;" .. package.path
local c = require("common")
local S = {}
local learners, instructor, admin
local i = 0

function S.init(thread_no, threads)
  learners = c.learners(thread_no, threads)
  instructor = c.staff("instructor")[1]
  admin = c.staff("admin")[1]
end

local steps = {
  function() return c.request("GET", "/health", nil, nil, "GET /health") end,
  function() return c.request("GET", "/ready", nil, nil, "GET /ready") end,
  function() return c.request("GET", "/api/v1/courses?limit=20", nil, nil, "GET /courses") end,
  function(l) return c.request("GET", "/api/v1/courses/" .. l.course_id, nil, nil, "GET /courses/:id") end,
  function(l) return c.request("GET", "/api/v1/users/me", nil, l.token, "GET /users/me") end,
  function(l) return c.request("GET", "/api/v1/enrollments/me", nil, l.token, "GET /enrollments/me") end,
  function(l) return c.request("GET", "/api/v1/progress/courses/" .. l.course_id, nil, l.token, "GET /progress/courses/:id") end,
  function(l) return c.request("GET", "/api/v1/lessons/" .. l.lessons[1], nil, l.token, "GET /lessons/:id") end,
  function(l)
    return c.request("POST", "/api/v1/progress/lessons/" .. l.lessons[1],
      '{"watched_seconds":30,"last_position_seconds":30,"completion_percentage":10}', l.token, "POST /progress/lessons/:id")
  end,
  function(l) return c.request("GET", "/api/v1/gamification/me", nil, l.token, "GET /gamification/me") end,
  function(l) return c.request("GET", "/api/v1/gamification/me/history?limit=10", nil, l.token, "GET /gamification/me/history") end,
  function() return c.request("GET", "/api/v1/achievements", nil, nil, "GET /achievements") end,
  function(l) return c.request("GET", "/api/v1/leaderboards/global?limit=10&around=me", nil, l.token, "GET /leaderboards/global") end,
  function(l) return c.request("GET", "/api/v1/leaderboards/courses/" .. l.course_id .. "?limit=10", nil, nil, "GET /leaderboards/courses/:id") end,
  function() return c.request("GET", "/api/v1/courses/" .. instructor.course_id .. "/analytics", nil, instructor.token, "GET /courses/:id/analytics") end,
  function() return c.request("GET", "/api/v1/courses/" .. instructor.course_id .. "/students?limit=20", nil, instructor.token, "GET /courses/:id/students") end,
  function() return c.request("GET", "/api/v1/admin/users?limit=20", nil, admin.token, "GET /admin/users") end,
  function() return c.request("GET", "/api/v1/admin/audit?limit=20", nil, admin.token, "GET /admin/audit") end,
  function() return c.request("GET", "/api/v1/admin/performance", nil, admin.token, "GET /admin/performance") end,
}

function S.next_request()
  i = i + 1
  local l = learners[1 + math.floor((i - 1) / #steps) % #learners]
  return steps[1 + (i - 1) % #steps](l)
end

c.install(S)
