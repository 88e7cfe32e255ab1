-- POST /api/v1/progress/lessons/{id}: the hottest write, a video heartbeat below the
-- completion threshold (so every request does the full write path, not a no-op).
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
local common = require("common")
local tokens, ids

function init(args)
  tokens, ids = common.load(args[1])
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
  local t = tokens[math.random(#tokens)]
  local s = math.random(1, 500)
  local body = string.format(
    '{"watched_seconds":%d,"last_position_seconds":%d,"completion_percentage":%d}',
    s, s, math.floor(s * 80 / 600))
  return wrk.format("POST", "/api/v1/progress/lessons/" .. ids.lesson,
    {["Authorization"] = "Bearer " .. t, ["Content-Type"] = "application/json"}, body)
end
