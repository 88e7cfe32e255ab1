-- POST /api/v1/progress/lessons/{id} as a watcher sends it: each request is the next 5-second
-- heartbeat of one of this thread's learners (120 per 10-minute lesson, then the next lesson),
-- so the percentage rises and reaches each quarter and the completion like a real playback.
-- wrk ... -s heartbeat.lua <url> -- <tokens file> <first lesson id> <lessons> <threads>
local next_tid = 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
end

function init(args)
  local all = {}
  for line in io.lines(args[1]) do
    if #line > 0 then all[#all + 1] = line end
  end
  lesson_lo, lessons, nthreads = tonumber(args[2]), tonumber(args[3]), tonumber(args[4])
  mine, counts, k = {}, {}, 0
  for i = 1, #all do
    if (i - 1) % nthreads == tid then
      mine[#mine + 1] = all[i]
      counts[#mine] = 0
    end
  end
end

function request()
  k = k % #mine + 1
  local n = counts[k]
  counts[k] = n + 1
  local step = n % 120 + 1
  local body = string.format('{"watched_seconds":%d,"last_position_seconds":%d,"completion_percentage":%d}',
    step * 5, step * 5, math.floor(step * 100 / 120))
  return wrk.format("POST", "/api/v1/progress/lessons/" .. (lesson_lo + math.floor(n / 120) % lessons),
    {["Authorization"] = "Bearer " .. mine[k], ["Content-Type"] = "application/json"}, body)
end
