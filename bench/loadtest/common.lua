-- Shared by the wrk scenarios of bench/loadtest/ (loaded with require "common"; run.sh sets
-- LMS_LOADTEST_DIR so package.path finds it).
--
-- wrk measures one latency for everything; these helpers add what the k6 scenarios report:
-- figures per route. Every request carries an X-Request-Id "<thread>-<seq>" that the gateway
-- echoes; request() remembers the route and the send time under that id, response() finds
-- them again, times the request with CLOCK_MONOTONIC (LuaJIT ffi) and checks the status (and
-- the body where a scenario says so). Per route: count, errors (unexpected statuses or bodies),
-- statuses, and a log-bucketed latency histogram (2 % resolution) for p50/p95/p99. done()
-- merges the threads and prints one line per route.
--
-- Pools (made by bench/loadtest/pool.sh): learners.tsv "user_id email token course_id lesson_ids"
-- and staff.tsv "role user_id email token course_id lesson_ids", tab-separated.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } lms_timespec;
  int clock_gettime(int clk_id, lms_timespec *tp);
]]

local M = {}
local ts = ffi.new("lms_timespec")

function M.now_ms()
  ffi.C.clock_gettime(1, ts)    -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

function M.env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  return v
end

function M.num(name, default)
  return tonumber(M.env(name, nil)) or default
end

-- ---- pools ---------------------------------------------------------------------------------
local function split(s, sep)
  local out = {}
  for field in (s .. sep):gmatch("(.-)" .. sep) do out[#out + 1] = field end
  return out
end

local function read_lines(path)
  local f = io.open(path, "r")
  if not f then error("cannot open " .. path .. " (make the pool with bench/loadtest/pool.sh)") end
  local lines = {}
  for line in f:lines() do
    if line ~= "" and line:sub(1, 1) ~= "#" then lines[#lines + 1] = line end
  end
  f:close()
  return lines
end

local function ids(s)
  local out = {}
  for id in (s or ""):gmatch("%d+") do out[#out + 1] = id end
  return out
end

-- The learners of this thread: every nth line from the thread's own offset, so no two threads
-- share a learner.
function M.learners(thread_no, threads)
  local pool = {}
  local dir = M.env("LMS_POOL_DIR", "/tmp/lms-loadtest")
  for i, line in ipairs(read_lines(dir .. "/learners.tsv")) do
    if (i - 1) % threads == thread_no then
      local f = split(line, "\t")
      pool[#pool + 1] = { user_id = f[1], email = f[2], token = f[3], course_id = f[4], lessons = ids(f[5]), step = {} }
    end
  end
  if #pool == 0 then error("learners.tsv has no learner for thread " .. thread_no) end
  return pool
end

function M.staff(role)
  local out = {}
  local dir = M.env("LMS_POOL_DIR", "/tmp/lms-loadtest")
  for _, line in ipairs(read_lines(dir .. "/staff.tsv")) do
    local f = split(line, "\t")
    if f[1] == role then
      out[#out + 1] = { user_id = f[2], email = f[3], token = f[4], course_id = f[5], lessons = ids(f[6]) }
    end
  end
  return out
end

function M.pick(list)
  return list[math.random(#list)]
end

-- ---- per-route statistics ------------------------------------------------------------------
local LOG_BASE = math.log(1.02)
-- wrk's thread:get copies only flat tables between Lua states (a nested table crashes it), so
-- the statistics live in one flat table: "route\tn", "route\te", "route\ts\t<status>" and
-- "route\tb\t<bucket>" -> count
local stats = {}
local pending = {}        -- request id -> { route, t0, check }
local seq = 0
M.thread_no = 0

local function bump(key)
  stats[key] = (stats[key] or 0) + 1
end

-- One request: method, path, body (string or nil), token (or nil), route label, and the
-- check: a table of expected statuses, optionally with .body = a plain string the body of an
-- answer with status .body_status must match.
function M.request(method, path, body, token, route, check)
  seq = seq + 1
  local rid = "lt" .. M.thread_no .. "-" .. seq
  pending[rid] = { route = route, t0 = M.now_ms(), check = check or { 200 } }
  local headers = { ["X-Request-Id"] = rid, ["Accept"] = "application/json" }
  if token then headers["Authorization"] = "Bearer " .. token end
  if body then headers["Content-Type"] = "application/json" end
  return wrk.format(method, path, headers, body)
end

local function header(headers, name)
  for k, v in pairs(headers) do
    if k:lower() == name then return v end
  end
  return nil
end

-- Call from the scenario's response(): records the answer. Returns the route and status, or
-- nil when the answer cannot be matched with a request (counted as an error of "?unmatched").
function M.response(status, headers, body)
  local rid = header(headers, "x-request-id")
  local p = rid and pending[rid]
  if not p then
    bump("?unmatched\tn")
    bump("?unmatched\te")
    return nil
  end
  pending[rid] = nil
  local ms = M.now_ms() - p.t0
  local r = p.route
  bump(r .. "\tn")
  bump(r .. "\ts\t" .. status)
  local ok = false
  for _, st in ipairs(p.check) do
    if st == status then ok = true end
  end
  if ok and p.check.body and status == (p.check.body_status or status) and not (body or ""):find(p.check.body, 1, true) then
    ok = false
  end
  if not ok then bump(r .. "\te") end
  bump(r .. "\tb\t" .. math.max(0, math.floor(math.log(math.max(ms, 0.001) * 1000) / LOG_BASE)))
  return r, status
end

-- Adds one thread's flat statistics to the per-route tables of the report.
local function merge(into, flat)
  for key, v in pairs(flat or {}) do
    local route, what, arg = key:match("^([^\t]*)\t([nesb])\t?(.*)$")
    if route then
      local s = into[route]
      if not s then
        s = { n = 0, err = 0, status = {}, buckets = {} }
        into[route] = s
      end
      if what == "n" then s.n = s.n + v
      elseif what == "e" then s.err = s.err + v
      elseif what == "s" then s.status[tonumber(arg)] = (s.status[tonumber(arg)] or 0) + v
      else s.buckets[tonumber(arg)] = (s.buckets[tonumber(arg)] or 0) + v end
    end
  end
end

-- The q-quantile (0..1) of a route's latencies in ms: the upper bound of the bucket it falls in.
local function percentile(s, q)
  local keys = {}
  for k in pairs(s.buckets) do keys[#keys + 1] = k end
  table.sort(keys)
  local want = math.max(1, math.ceil(s.n * q))
  local seen = 0
  for _, k in ipairs(keys) do
    seen = seen + s.buckets[k]
    if seen >= want then return math.exp((k + 1) * LOG_BASE) / 1000 end
  end
  return 0
end

-- Call from the scenario's done(): prints the per-route table, and writes the machine-readable
-- lines "ROUTE<TAB>route<TAB>requests<TAB>rps<TAB>p50<TAB>p95<TAB>p99<TAB>errors<TAB>statuses<TAB>max" and
-- "TOTAL<TAB>requests<TAB>rps<TAB>errors<TAB>socket errors" that run.sh reads to LMS_ROUTES_FILE
-- (to standard output without it).
function M.report(threads, summary)
  local path = M.env("LMS_ROUTES_FILE", nil)
  local machine = path and assert(io.open(path, "w")) or io.stdout
  local all = {}
  -- thread:get copies a thread's flat global table once the threads have ended
  for _, t in ipairs(threads) do merge(all, t:get("lms_stats")) end
  local secs = summary.duration / 1e6
  local routes = {}
  for r in pairs(all) do routes[#routes + 1] = r end
  table.sort(routes)
  io.write(string.format("\n%-36s %9s %9s %8s %8s %8s %8s %7s  %s\n", "route", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors", "statuses"))
  local total, errors = 0, 0
  for _, r in ipairs(routes) do
    local s = all[r]
    local st = {}
    local codes = {}
    for k in pairs(s.status) do codes[#codes + 1] = k end
    table.sort(codes)
    for _, k in ipairs(codes) do st[#st + 1] = k .. ":" .. s.status[k] end
    local p50, p95, p99, max = percentile(s, 0.50), percentile(s, 0.95), percentile(s, 0.99), percentile(s, 1)
    io.write(string.format("%-36s %9d %9.1f %8.2f %8.2f %8.2f %8.2f %7d  %s\n", r, s.n, s.n / secs, p50, p95, p99, max, s.err, table.concat(st, " ")))
    machine:write(string.format("ROUTE\t%s\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%d\t%s\t%.2f\n", r, s.n, s.n / secs, p50, p95, p99, s.err, table.concat(st, " "), max))
    total = total + s.n
    errors = errors + s.err
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  io.write(string.format("%-36s %9d %9.1f   (socket errors %d: connect %d, read %d, write %d, timeout %d)\n",
    "all routes", total, total / secs, socket_errors, e.connect, e.read, e.write, e.timeout))
  machine:write(string.format("TOTAL\t%d\t%.1f\t%d\t%d\n", total, total / secs, errors, socket_errors))
  if path then machine:close() end
end

-- The standard wiring: a scenario module defines M.next_request() and optionally M.think_ms()
-- and calls common.install(scenario) to get wrk's setup/init/request/response/delay/done.
function M.install(scn)
  local threads = {}
  local counter = 0
  setup = function(thread)
    thread:set("lms_thread_no", counter)
    counter = counter + 1
    threads[#threads + 1] = thread
  end
  init = function(args)
    M.thread_no = lms_thread_no or 0
    lms_stats = stats
    math.randomseed(1000 + M.thread_no)
    if scn.init then scn.init(M.thread_no, tonumber(M.env("LMS_THREADS", "1"))) end
  end
  -- wrk calls request() once in the first thread before any connection opens, only to count
  -- pipelined requests (script_verify_request); that call must not use up a learner
  local verified = false
  request = function()
    if M.thread_no == 0 and not verified then
      verified = true
      return wrk.format("GET", "/health")
    end
    return scn.next_request()
  end
  response = function(status, headers, body)
    local route, st = M.response(status, headers, body)
    if scn.on_response then scn.on_response(route, st, body) end
  end
  if scn.think_ms then
    -- wrk also waits delay() before a connection's first request: those first pauses are
    -- spread over the whole pause so the simulated users do not all start in step
    local first = math.floor(M.num("LMS_CONNECTIONS", 0) / M.num("LMS_THREADS", 1))
    local calls = 0
    delay = function()
      calls = calls + 1
      if calls <= first and not scn.start_together then return math.random() * scn.think_ms() end
      return scn.think_ms()
    end
  end
  done = function(summary, latency, requests)
    M.report(threads, summary)
    if scn.done then scn.done(threads) end
  end
end

return M
