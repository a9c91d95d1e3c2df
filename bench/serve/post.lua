-- wrk script for `healthscore serve`: POSTs the JSON body in $BODY_FILE to /v1/score and, at the
-- end, prints one RESULT line (requests/s, latency percentiles, non-200 answers, socket errors).
local path = os.getenv("BODY_FILE")
local f = assert(io.open(path, "rb"), "BODY_FILE not readable: " .. tostring(path))
local payload = f:read("*a")
f:close()

wrk.method = "POST"
wrk.path = os.getenv("SCORE_PATH") or "/v1/score"
wrk.body = payload
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("BEARER_TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end

local threads = {}
function setup(thread)
    table.insert(threads, thread)
end

non200 = 0
function response(status, headers, body)
    if status ~= 200 then non200 = non200 + 1 end
end

function done(summary, latency, requests)
    local bad = 0
    for _, t in ipairs(threads) do bad = bad + t:get("non200") end
    local seconds = summary.duration / 1e6
    local e = summary.errors
    io.write(string.format(
        "RESULT requests=%d seconds=%.2f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f non200=%d socket_errors=%d\n",
        summary.requests, seconds, summary.requests / seconds,
        latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
        latency.max / 1000, bad, e.connect + e.read + e.write + e.timeout))
end
