-- wrk script for bench/wecom/callbacks.sh: each thread POSTs its own share of the pre-signed callbacks in
-- $KOI_CALLBACKS (lines "<target>\t<body>") once, then stops, so no request is a replay.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  requests = {}
  local nthreads = tonumber(os.getenv("KOI_WRK_THREADS"))
  local i = 0
  for line in io.lines(os.getenv("KOI_CALLBACKS")) do
    if i % nthreads == id then
      local tab = line:find("\t", 1, true)
      requests[#requests + 1] = wrk.format("POST", line:sub(1, tab - 1), {["Content-Type"] = "text/xml"},
                                           line:sub(tab + 1))
    end
    i = i + 1
  end
  next_request = 1
  non_200 = 0
end

function request()
  if next_request > #requests then
    wrk.thread:stop()
    return requests[#requests]
  end
  local r = requests[next_request]
  next_request = next_request + 1
  return r
end

function response(status, headers, body)
  if status ~= 200 then non_200 = non_200 + 1 end
end
