-- bench/served.py's clients under wrk: one thread and one connection per client,
-- each signed in as its own advocate or staff member (BENCH_COOKIE_<n>) and asking
-- for its own page (BENCH_PATH_<n>: its shelter's board, its case).  At the end
-- one line of JSON: latency p50 and p95 in ms, requests, the statements the
-- bench app reported per response (X-Bench-Statements), non-200 answers, errors.

local threads = {}
local count = 0

function setup(thread)
  count = count + 1
  thread:set("cookie", os.getenv("BENCH_COOKIE_" .. count))
  thread:set("path", os.getenv("BENCH_PATH_" .. count))
  table.insert(threads, thread)
end

function init(args)
  wrk.headers["Cookie"] = cookie
  req = wrk.format("GET", path)
  statements = 0
  responses = 0
  bad = 0
end

function request()
  return req
end

function response(status, headers, body)
  responses = responses + 1
  if status ~= 200 then
    bad = bad + 1
  end
  statements = statements + (tonumber(headers["X-Bench-Statements"]) or 0)
end

function done(summary, latency, requests)
  local s, r, b = 0, 0, 0
  for _, thread in ipairs(threads) do
    s = s + thread:get("statements")
    r = r + thread:get("responses")
    b = b + thread:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    '{"p50": %.3f, "p95": %.3f, "requests": %d, "seconds": %.3f, "statements": %d, '
      .. '"responses": %d, "bad": %d, "errors": %d}\n',
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, summary.requests,
    summary.duration / 1e6, s, r, b, e.connect + e.read + e.write + e.status + e.timeout))
end
