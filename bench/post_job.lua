-- wrk script for `POST /api/v1/jobs` (bench/run.sh): every request creates one draft job.
--   HIREWIRE_BENCH_KEY   an API key with the jobs:write scope (required)
--   HIREWIRE_BENCH_BODY  the JSON body (default: job.json beside this script)
-- wrk counts any answer other than 2xx/3xx under "Non-2xx or 3xx responses", which run.sh
-- reports as errors; run.sh also sends this body once with curl and checks for 201 first.
local key = os.getenv("HIREWIRE_BENCH_KEY")
if key == nil or key == "" then
  error("set HIREWIRE_BENCH_KEY to an API key with the jobs:write scope")
end

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local path = os.getenv("HIREWIRE_BENCH_BODY") or (here .. "job.json")
local file = assert(io.open(path, "rb"))
local body = file:read("*a"):gsub("%s+$", "")
file:close()

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key
