-- wrk script: POST /v1/batch with the gzipped bodies tools/bench/tracking-bodies.py wrote
-- (BODIES: their path without the extension), each thread taking every THREADS-th one from
-- its own start, so that every message is new; BASIC is base64 of "<write key>:" (Basic
-- credentials with an empty password, as Segment's libraries send them).
local path = os.getenv("BODIES")
local threads = tonumber(os.getenv("THREADS") or "2")
local bodies = {}
local next_body = 1
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("first", counter)
end

function init(args)
  local file = assert(io.open(path .. ".bodies", "rb"))
  local all = file:read("*a")
  file:close()
  local offset = 1
  for length in io.lines(path .. ".index") do
    local n = tonumber(length)
    bodies[#bodies + 1] = all:sub(offset, offset + n - 1)
    offset = offset + n
  end
  next_body = first or 1
end

local auth = "Basic " .. os.getenv("BASIC")

request = function()
  local body = bodies[next_body] or bodies[1]
  next_body = next_body + threads
  return wrk.format("POST", "/v1/batch", {
    ["Authorization"] = auth,
    ["Content-Type"] = "application/json",
    ["Content-Encoding"] = "gzip",
  }, body)
end
