-- wrk -s bench/post.lua http://127.0.0.1:PORT/PATH -- BODIES_FILE
-- POSTs the JSON bodies of BODIES_FILE (one per line) in turn, and prints one machine-readable
-- line: "BENCH {json}" with requests, duration, errors and latency percentiles (µs).

local requests = {}
local counter = 0

function init(args)
  local path = args[1]
  if path == nil then
    error("usage: wrk -s post.lua URL -- BODIES_FILE")
  end
  for line in io.lines(path) do
    if #line > 0 then
      requests[#requests + 1] = wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, line)
    end
  end
  if #requests == 0 then
    error("no bodies in " .. path)
  end
end

function request()
  counter = counter + 1
  return requests[(counter % #requests) + 1]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, '
      .. '"timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean
  ))
end
