-- A mixed read load: course page, catalog, achievements, global board (anonymous) and the
-- learner's own gamification, progress and enrollments (with a token).
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
local common = require("common")
local tokens, ids

function init(args)
  tokens, ids = common.load(args[1])
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
  local r = math.random(7)
  local auth = {["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]}
  if r == 1 then return wrk.format("GET", "/api/v1/courses/" .. ids.course) end
  if r == 2 then return wrk.format("GET", "/api/v1/courses?limit=10") end
  if r == 3 then return wrk.format("GET", "/api/v1/achievements") end
  if r == 4 then return wrk.format("GET", "/api/v1/leaderboards/global?limit=10") end
  if r == 5 then return wrk.format("GET", "/api/v1/gamification/me", auth) end
  if r == 6 then return wrk.format("GET", "/api/v1/progress/courses/" .. ids.course, auth) end
  return wrk.format("GET", "/api/v1/enrollments/me", auth)
end
