-- GET /api/v1/gamification/me, each request with one of the seeded learners' tokens.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
local common = require("common")
local tokens

function init(args)
  tokens = common.load(args[1])
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
  local t = tokens[math.random(#tokens)]
  return wrk.format("GET", "/api/v1/gamification/me", {["Authorization"] = "Bearer " .. t})
end
