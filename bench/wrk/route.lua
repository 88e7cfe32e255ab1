-- One GET route for every request (ROUTE_PATH, with "{course}" replaced by the seeded course),
-- each request with one of the seeded learners' tokens and Accept-Encoding: gzip, as a browser.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "?.lua"
local common = require("common")
local tokens, path

function init(args)
  local ids
  tokens, ids = common.load(args[1])
  path = os.getenv("ROUTE_PATH"):gsub("{course}", ids.course)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
  local t = tokens[math.random(#tokens)]
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. t, ["Accept-Encoding"] = "gzip"})
end
