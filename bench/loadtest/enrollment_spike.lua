-- enrollment_spike (wrk): every connection enrolls one learner of the pool into the course
-- LMS_SPIKE_COURSE (made fresh by run.sh with SEATS seats), all connections firing as they
-- open, i.e. together. Expected: 201, or 409 with code course_full; anything else (a 5xx above
-- all) is an error. Once this thread's learners are used up, connections only read the course
-- once a second ("GET /courses/:id (after)"). run.sh then checks that exactly SEATS enrollments
-- were created and that the course shows seats_left 0.
package.path = (os.getenv("LMS_LOADTEST_DIR") or "bench/loadtest") .. "/?.lua;" .. package.path
local c = require("common")
local S = {}
local learners
local used = 0
local course = c.env("LMS_SPIKE_COURSE", "0")
local limit = c.num("LMS_SPIKE_LEARNERS", 200)

function S.init(thread_no, threads)
  learners = c.learners(thread_no, threads)
  -- this thread's share of the cohort
  local share = math.floor(limit / threads) + ((thread_no < limit % threads) and 1 or 0)
  while #learners > share do table.remove(learners) end
end

function S.next_request()
  if used < #learners then
    used = used + 1
    return c.request("POST", "/api/v1/courses/" .. course .. "/enroll", nil, learners[used].token,
      "POST /courses/:id/enroll", { 201, 409, body = '"course_full"', body_status = 409 })
  end
  return c.request("GET", "/api/v1/courses/" .. course, nil, nil, "GET /courses/:id (after)")
end

S.start_together = true

function S.think_ms()
  return used < #learners and 0 or 1000
end

c.install(S)
