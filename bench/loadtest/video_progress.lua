-- video_progress (wrk): learners watching videos, one POST /progress/lessons/{id} per learner
-- every PROGRESS_INTERVAL s (default 5: each connection is one watcher). A learner goes through
-- a lesson in WATCH_STEPS writes (default 12, 0 -> 100 %), then on to the next lesson of the
-- course, like k6/video_progress.js. THINK=0 sends without pauses (peak write throughput).
package.path = (os.getenv("LMS_LOADTEST_DIR") or "bench/loadtest") .. "/?.lua;" .. package.path
local c = require("common")
local S = {}
local learners
local next_learner = 0
local steps = c.num("WATCH_STEPS", 12)
local interval = c.num("PROGRESS_INTERVAL", 5) * 1000
local think = c.env("THINK", "1") ~= "0"

function S.init(thread_no, threads)
  learners = {}
  for _, l in ipairs(c.learners(thread_no, threads)) do
    if #l.lessons > 0 then
      l.current = 1 + (tonumber(l.user_id) % #l.lessons)
      l.n = 0
      learners[#learners + 1] = l
    end
  end
end

function S.next_request()
  next_learner = next_learner % #learners + 1
  local l = learners[next_learner]
  l.n = l.n + 1
  local pct = math.min(100, math.floor(100 * l.n / steps + 0.5))
  local sec = math.floor(600 * pct / 100)
  local lesson = l.lessons[l.current]
  if l.n >= steps then
    l.n = 0
    l.current = l.current % #l.lessons + 1
  end
  return c.request("POST", "/api/v1/progress/lessons/" .. lesson,
    string.format('{"watched_seconds":%d,"last_position_seconds":%d,"completion_percentage":%d}', sec, sec, pct),
    l.token, "POST /progress/lessons/:id")
end

if think then
  -- a player's clock, give or take the 100 ms a browser's timer drifts
  function S.think_ms() return interval - 100 + math.random() * 200 end
end

c.install(S)
