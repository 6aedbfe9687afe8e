-- wrk script for the baseline: the same body and headers as post_dossier.lua, sent to
-- POST /echo of bench/bare_app.py (no key needed).
local here = debug.getinfo(1, "S").source:match("^@?(.*[/\\])") or "./"
package.path = here .. "?.lua;" .. package.path
require("wrk_common").install("/echo", false)
