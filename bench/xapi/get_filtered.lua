-- wrk: GET /xapi/statements?<filter>=<random value>&limit=<n>. args: <auth> <agent|activity> <count> <limit>
local auth, kind, count, limit
function init(args)
  auth, kind, count, limit = args[1], args[2], tonumber(args[3]), args[4]
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end
function request()
  local n = math.random(1, count)
  local q
  if kind == "agent" then
    q = "agent=%7B%22mbox%22%3A%22mailto%3Alearner" .. n .. "%40bench.example%22%7D"
  else
    q = "activity=http%3A%2F%2Fbench.example%2Factivity%2F" .. n
  end
  return wrk.format("GET", "/xapi/statements?" .. q .. "&limit=" .. limit,
                    {["Authorization"] = auth, ["X-Experience-API-Version"] = "1.0.3"})
end
function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors=%d p50=%.1f p95=%.1f p99=%.1f rps=%.1f\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6)))
end
