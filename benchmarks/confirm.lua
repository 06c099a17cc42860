-- wrk script: POST prepared confirmation requests, one after the other, cycling.
--
--   wrk -t1 -c16 -d10s -s benchmarks/confirm.lua http://127.0.0.1:PORT -- REQUESTS_FILE
--
-- REQUESTS_FILE (or, if no argument is given, the file named by $CONFIRM_REQUESTS) holds
-- one request per line: the path, a tab, then the form-encoded body. Every request is
-- sent as POST with Content-Type application/x-www-form-urlencoded. Requests are
-- formatted once, in init(); with -t1 the whole run walks the file in order, so each
-- request confirms a different payment until the file is exhausted and starts over.

local requests = {}
local n = 0
local i = 0

function init(args)
  local file = args[1] or os.getenv("CONFIRM_REQUESTS")
  if file == nil or file == "" then
    error("confirm.lua: give the requests file after `--` or in $CONFIRM_REQUESTS")
  end
  local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  for line in io.lines(file) do
    line = line:gsub("\r$", "")
    if line ~= "" then
      local tab = line:find("\t", 1, true)
      local path, body = line, ""
      if tab then
        path, body = line:sub(1, tab - 1), line:sub(tab + 1)
      end
      n = n + 1
      requests[n] = wrk.format("POST", path, headers, body)
    end
  end
  if n == 0 then
    error("confirm.lua: no requests in " .. file)
  end
end

function request()
  i = i + 1
  if i > n then
    i = 1
  end
  return requests[i]
end
