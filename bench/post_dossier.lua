-- wrk script: POST /api/v1/dossiers with a valid body, a bearer key and a unique
-- Idempotency-Key per request. See wrk_common.lua for the environment it reads.
--   BENCH_API_KEY=hpa_... BENCH_RUN_ID=r1 wrk -t2 -c32 -d10s -s bench/post_dossier.lua http://127.0.0.1:8000
local here = debug.getinfo(1, "S").source:match("^@?(.*[/\\])") or "./"
package.path = here .. "?.lua;" .. package.path
require("wrk_common").install("/api/v1/dossiers", true)
