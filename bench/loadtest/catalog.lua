-- catalog (wrk): anonymous visitors browsing the course list (20 % by category, 10 % searched)
-- and course pages, a third list pages and two thirds course pages as in k6/catalog.js, with
-- the same think time between two pages (THINK_MIN..THINK_MAX s; THINK=0 for none).
package.path = (os.getenv("LMS_LOADTEST_DIR") or "bench/loadtest") .. "/?.lua;" .. package.path
local c = require("common")
local S = {}
local courses = {}
local pages = 1
local categories = { "databases", "programming", "operations", "web", "data" }
local words = { "sql", "postgresql", "http", "index", "json", "security" }
local think = c.env("THINK", "1") ~= "0"
local tmin, tmax = c.num("THINK_MIN", 1) * 1000, c.num("THINK_MAX", 3) * 1000

function S.init()
  local f = assert(io.open(c.env("LMS_POOL_DIR", "/tmp/lms-loadtest") .. "/courses.txt", "r"))
  for line in f:lines() do
    if line:match("^%d+$") then courses[#courses + 1] = line end
  end
  f:close()
  pages = math.max(1, math.min(5, math.ceil(#courses / 20)))   -- the first five pages, as far as they exist
end

function S.next_request()
  if math.random() < 1 / 3 then
    local r = math.random()
    local q = "?page=" .. math.random(pages) .. "&limit=20"
    if r < 0.2 then q = "?category=" .. c.pick(categories) .. "&limit=20"
    elseif r < 0.3 then q = "?q=" .. c.pick(words) .. "&limit=20" end
    return c.request("GET", "/api/v1/courses" .. q, nil, nil, "GET /courses")
  end
  return c.request("GET", "/api/v1/courses/" .. c.pick(courses), nil, nil, "GET /courses/:id")
end

if think then
  function S.think_ms() return tmin + math.random() * (tmax - tmin) end
end

c.install(S)
