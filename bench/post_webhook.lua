-- wrk script: POST /api/v1/payments/webhook with pre-signed, distinct gateway events.
-- bench_webhooks.py writes BENCH_WEBHOOK_FILE just before the run: one event per line,
-- "<Stripe-Signature>\t<raw JSON body>". Thread i of n sends lines i, i+n, i+2n, …, so no
-- event is sent twice (a duplicate would be acknowledged without being recorded again).
-- With BENCH_WEBHOOK_PATH set (the baseline), the same bodies go to that path instead.
local threads = {}
local next_thread_id = 1

function setup(thread)
  thread:set("thread_id", next_thread_id)
  thread:set("thread_count", 0)
  next_thread_id = next_thread_id + 1
  table.insert(threads, thread)
end

function init(args)
  path = os.getenv("BENCH_WEBHOOK_PATH") or "/api/v1/payments/webhook"
  local name = os.getenv("BENCH_WEBHOOK_FILE")
  if not name then error("BENCH_WEBHOOK_FILE is not set") end
  local file = assert(io.open(name, "r"))
  local total_threads = tonumber(os.getenv("BENCH_THREADS") or "2")
  events = {}
  local n = 0
  for line in file:lines() do
    if n % total_threads == thread_id - 1 then
      local tab = line:find("\t", 1, true)
      table.insert(events, {line:sub(1, tab - 1), line:sub(tab + 1)})
    end
    n = n + 1
  end
  file:close()
  cursor = 0
  responses, non2xx, duplicates, exhausted = 0, 0, 0, 0
  statuses = {}
  first_error = ""
end

function request()
  cursor = cursor + 1
  if cursor > #events then
    exhausted = exhausted + 1
    cursor = 1  -- should not happen: the harness writes more events than a run can send
  end
  local event = events[cursor]
  return wrk.format("POST", path, {["Content-Type"] = "application/json", ["Stripe-Signature"] = event[1]},
                    event[2])
end

function response(status, _, body)
  responses = responses + 1
  statuses[status] = (statuses[status] or 0) + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_error == "" then first_error = status .. " " .. string.sub(body or "", 1, 300) end
  elseif body and body:find('"duplicate":true', 1, true) then
    duplicates = duplicates + 1
  end
end

function done(summary, latency, requests)
  local total, bad, dup, ex, merged, sample = 0, 0, 0, 0, {}, ""
  for _, t in ipairs(threads) do
    total = total + (t:get("responses") or 0)
    bad = bad + (t:get("non2xx") or 0)
    dup = dup + (t:get("duplicates") or 0)
    ex = ex + (t:get("exhausted") or 0)
    for status, n in pairs(t:get("statuses") or {}) do merged[status] = (merged[status] or 0) + n end
    local e = t:get("first_error") or ""
    if sample == "" and e ~= "" then sample = e end
  end
  local parts = {}
  for status, n in pairs(merged) do table.insert(parts, status .. ":" .. n) end
  table.sort(parts)
  io.write(string.format("bench: responses=%d non2xx=%d statuses=%s\n", total, bad, table.concat(parts, ",")))
  io.write(string.format("bench: duplicates=%d exhausted=%d\n", dup, ex))
  if sample ~= "" then io.write("bench: first_error=" .. string.gsub(sample, "\n", " ") .. "\n") end
end
