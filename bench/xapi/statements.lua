-- wrk script of bench/xapi.sh against the generated statements (learnerN@bench.example,
-- http://bench.example/activity/N). args: <Basic auth header value> <mode> <count> [limit]
--   post:     POST /xapi/statements with a batch of 100 new statements (random learners among
--             <count>, random activities among <count>)
--   agent:    GET /xapi/statements?agent=<a random learner among <count>>&limit=<limit>
--   activity: GET /xapi/statements?activity=<a random activity among <count>>&limit=<limit>
local auth, mode, count, limit
local verbs = {"http://adlnet.gov/expapi/verbs/experienced", "http://adlnet.gov/expapi/verbs/progressed",
               "http://adlnet.gov/expapi/verbs/completed", "http://adlnet.gov/expapi/verbs/answered",
               "http://adlnet.gov/expapi/verbs/attempted"}
function init(args)
  auth, mode, count, limit = args[1], args[2], tonumber(args[3]), args[4]
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end
local function uuid()
  return string.format("%08x-%04x-4%03x-%04x-%012x", math.random(0, 0xffffffff), math.random(0, 0xffff),
                       math.random(0, 0xfff), 0x8000 + math.random(0, 0x3fff), math.random(0, 0xffffffffffff))
end
local function batch()
  local parts = {}
  for i = 1, 100 do
    local a, act = math.random(1, count), math.random(1, count)
    parts[i] = string.format('{"id":"%s","actor":{"mbox":"mailto:learner%d@bench.example","name":"Learner %d"},'
      .. '"verb":{"id":"%s"},"object":{"id":"http://bench.example/activity/%d","definition":{"name":{"en-US":"Activity %d"}}},'
      .. '"result":{"completion":true,"score":{"scaled":0.%d}},'
      .. '"context":{"contextActivities":{"parent":[{"id":"http://bench.example/course/%d"}]}}}',
      uuid(), a, a, verbs[math.random(1, 5)], act, act, math.random(0, 99), math.floor(act / 100))
  end
  return "[" .. table.concat(parts, ",") .. "]"
end
function request()
  local h = {["Authorization"] = auth, ["X-Experience-API-Version"] = "1.0.3"}
  if mode == "post" then
    h["Content-Type"] = "application/json"
    return wrk.format("POST", "/xapi/statements", h, batch())
  end
  local n = math.random(1, count)
  local q
  if mode == "agent" then
    q = "agent=%7B%22mbox%22%3A%22mailto%3Alearner" .. n .. "%40bench.example%22%7D"
  else
    q = "activity=http%3A%2F%2Fbench.example%2Factivity%2F" .. n
  end
  return wrk.format("GET", "/xapi/statements?" .. q .. "&limit=" .. limit, h)
end
function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors=%d p50=%.1f p95=%.1f p99=%.1f rps=%.1f\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6)))
end
