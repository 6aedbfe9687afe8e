-- wrk script: GET many paths read from a file, each thread cycling through its own order.
--
-- Environment:
--   BENCH_PATHS_FILE  one path per line (e.g. /t/<token>); required
--   BENCH_EXPECT      optional text every 200 body must contain (a wrong page counts as an error)
--   BENCH_THREADS     wrk's thread count (2), so thread i starts at line i and steps by it
-- Prints "bench: responses=… non2xx=… statuses=…" like wrk_common.lua, for bench_intake.parse_wrk.
local threads = {}
local next_thread_id = 1

function setup(thread)
  thread:set("thread_id", next_thread_id)
  next_thread_id = next_thread_id + 1
  table.insert(threads, thread)
end

function init(args)
  local name = os.getenv("BENCH_PATHS_FILE")
  if not name then error("BENCH_PATHS_FILE is not set") end
  expect = os.getenv("BENCH_EXPECT") or ""
  paths = {}
  for line in assert(io.open(name, "r")):lines() do
    if line ~= "" then table.insert(paths, line) end
  end
  if #paths == 0 then error("no paths in " .. name) end
  step = tonumber(os.getenv("BENCH_THREADS") or "2")
  cursor = thread_id
  responses, non2xx, wrong = 0, 0, 0
  statuses = {}
  first_error = ""
end

function request()
  cursor = cursor + step
  if cursor > #paths then cursor = ((cursor - 1) % #paths) + 1 end
  return wrk.format("GET", paths[cursor])
end

function response(status, _, body)
  responses = responses + 1
  statuses[status] = (statuses[status] or 0) + 1
  local bad = status < 200 or status > 299
  if not bad and expect ~= "" and not string.find(body or "", expect, 1, true) then
    bad = true
    wrong = wrong + 1
  end
  if bad then
    non2xx = non2xx + 1
    if first_error == "" then first_error = status .. " " .. string.sub(body or "", 1, 300) end
  end
end

function done(summary, latency, requests)
  local total, bad, wrong_pages, merged, sample = 0, 0, 0, {}, ""
  for _, t in ipairs(threads) do
    total = total + (t:get("responses") or 0)
    bad = bad + (t:get("non2xx") or 0)
    wrong_pages = wrong_pages + (t:get("wrong") or 0)
    for status, n in pairs(t:get("statuses") or {}) do merged[status] = (merged[status] or 0) + n end
    local e = t:get("first_error") or ""
    if sample == "" and e ~= "" then sample = e end
  end
  local parts = {}
  for status, n in pairs(merged) do table.insert(parts, status .. ":" .. n) end
  table.sort(parts)
  io.write(string.format("bench: responses=%d non2xx=%d statuses=%s\n", total, bad, table.concat(parts, ",")))
  io.write(string.format("bench: wrong_pages=%d\n", wrong_pages))
  if sample ~= "" then io.write("bench: first_error=" .. string.gsub(sample, "\n", " ") .. "\n") end
end
