-- wrk script: POST /v1/events with EVENTS new leads' captures per request, every id unique
-- (the run's RUN name, a thread tag and a counter), so every event is appended, none a
-- duplicate. (wrk seeds Lua's random numbers alike in every run: RUN tells runs apart.)
local per_request = tonumber(os.getenv("EVENTS") or "1")
local key = os.getenv("KEY")
local run = os.getenv("RUN") or tostring(os.time())
local counter = 0
local thread_tag = ""

function setup(thread)
  thread:set("tag", tostring(math.random(1, 1000000000)))
end

function init(args)
  thread_tag = tag or tostring(math.random(1, 1000000000))
end

request = function()
  local parts = {}
  for i = 1, per_request do
    counter = counter + 1
    local id = "w" .. run .. "-" .. thread_tag .. "-" .. counter
    parts[i] = '{"id":"' .. id .. '","type":"lead.captured","lead":"B-' .. id ..
      '","at":"2026-03-01T10:00:00Z","actor":"bench","data":{"source":"web","channel":"paid_search","email":"x@example.com"}}'
  end
  return wrk.format("POST", "/v1/events", {
    ["Authorization"] = "Bearer " .. key,
    ["Content-Type"] = "application/json",
  }, "[" .. table.concat(parts, ",") .. "]")
end
