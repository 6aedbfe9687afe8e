-- Shared by post_dossier.lua and post_echo.lua: unique keys, varied bodies, error counts.
--
-- Environment:
--   BENCH_RUN_ID   a run id, part of every Idempotency-Key (keys never repeat across runs)
--   BENCH_API_KEY  the bearer key (only post_dossier.lua sends it)
-- Script arguments (after `--`) override them: wrk ... -s post_dossier.lua URL -- KEY RUN_ID
--
-- Per-thread state is read back in done() through the thread objects kept in setup();
-- the harness also reads wrk's own "Non-2xx or 3xx responses" line.

local M = {}

local threads = {}
local next_thread_id = 1

-- A few points around Hanoi (lat 20.95-21.08, lon 105.75-105.90) so routing spreads.
local POINTS = {
  {21.0285, 105.8542},  -- Hoàn Kiếm
  {21.0368, 105.8342},  -- Ba Đình
  {21.0362, 105.7906},  -- Cầu Giấy
  {21.0681, 105.8231},  -- Tây Hồ
  {21.0012, 105.8203},  -- Thanh Xuân
  {20.9712, 105.7788},  -- Hà Đông
  {20.9816, 105.8643},  -- Hoàng Mai
  {21.0465, 105.8852},  -- Long Biên
  {21.0075, 105.8459},  -- Hai Bà Trưng
  {21.0137, 105.7619},  -- Nam Từ Liêm
}

function M.install(path, send_key)
  function setup(thread)
    thread:set("thread_id", next_thread_id)
    next_thread_id = next_thread_id + 1
    table.insert(threads, thread)
  end

  function init(args)
    api_key = args[1] or os.getenv("BENCH_API_KEY") or ""
    run_id = args[2] or os.getenv("BENCH_RUN_ID") or tostring(os.time())
    if send_key and api_key == "" then
      error("BENCH_API_KEY is not set (or pass the key as the first script argument)")
    end
    counter = 0
    responses = 0
    non2xx = 0
    statuses = {}
    first_error = ""
    math.randomseed(thread_id * 7919 + os.time())
    headers = {["Content-Type"] = "application/json"}
    if send_key then
      headers["Authorization"] = "Bearer " .. api_key
    end
  end

  function request()
    counter = counter + 1
    local p = POINTS[math.random(#POINTS)]
    -- Up to ~300 m of jitter: still the same neighbourhood, never the same point.
    local lat = p[1] + (math.random() - 0.5) * 0.006
    local lon = p[2] + (math.random() - 0.5) * 0.006
    local body = string.format(
      '{"procedure_code":"HN-HT-201",' ..
      '"citizen":{"full_name":"Nguyễn Văn An","cccd":"001090012345","phone":"0912345678"},' ..
      '"location":{"lat":%.6f,"lon":%.6f,"source":"gps"},' ..
      '"delivery":{"method":"collect"}}', lat, lon)
    headers["Idempotency-Key"] = string.format("bench-%s-t%d-%d", run_id, thread_id, counter)
    return wrk.format("POST", path, headers, body)
  end

  function response(status, _, body)
    responses = responses + 1
    statuses[status] = (statuses[status] or 0) + 1
    if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if first_error == "" then
        first_error = status .. " " .. string.sub(body or "", 1, 300)
      end
    end
  end

  function done(summary, latency, requests)
    local total_responses, total_non2xx, merged, sample = 0, 0, {}, ""
    for _, t in ipairs(threads) do
      total_responses = total_responses + (t:get("responses") or 0)
      total_non2xx = total_non2xx + (t:get("non2xx") or 0)
      for status, n in pairs(t:get("statuses") or {}) do
        merged[status] = (merged[status] or 0) + n
      end
      local e = t:get("first_error") or ""
      if sample == "" and e ~= "" then
        sample = e
      end
    end
    local parts = {}
    for status, n in pairs(merged) do
      table.insert(parts, status .. ":" .. n)
    end
    table.sort(parts)
    io.write(string.format("bench: responses=%d non2xx=%d statuses=%s\n",
      total_responses, total_non2xx, table.concat(parts, ",")))
    if sample ~= "" then
      io.write("bench: first_error=" .. string.gsub(sample, "\n", " ") .. "\n")
    end
  end
end

return M
