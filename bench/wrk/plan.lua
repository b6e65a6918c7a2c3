-- Sends the requests of a plan file, each picked at random by its weight, and prints the result
-- as one JSON line after "BENCH-RESULT ". Usage: wrk ... -s plan.lua URL -- PLAN_FILE
--
-- A plan line is tab-separated: weight, method, path, and for a POST a JSON body in which every
-- "{n}" becomes a number unique to the run (so no two submissions are the same text).

local counter = 0
local thread_number = 0
local weights = {}
local templates = {}
local total = 0

function setup(thread)
   thread_number = thread_number + 1
   thread:set("thread_number", thread_number)
end

local function split(line)
   local fields = {}
   for field in string.gmatch(line, "[^\t]+") do
      fields[#fields + 1] = field
   end
   return fields
end

function init(args)
   local plan = assert(io.open(args[1], "r"))
   for line in plan:lines() do
      local fields = split(line)
      if #fields >= 3 then
         total = total + tonumber(fields[1])
         weights[#weights + 1] = total
         templates[#templates + 1] = { method = fields[2], path = fields[3], body = fields[4] }
      end
   end
   plan:close()
   math.randomseed(1000 + (thread_number or 0))
end

local function pick()
   local target = math.random() * total
   local low, high = 1, #weights
   while low < high do
      local middle = math.floor((low + high) / 2)
      if weights[middle] < target then low = middle + 1 else high = middle end
   end
   return templates[low]
end

local json_headers = { ["Content-Type"] = "application/json" }

function request()
   local chosen = pick()
   if chosen.method == "GET" then
      return wrk.format("GET", chosen.path)
   end
   counter = counter + 1
   local unique = tostring(thread_number or 0) .. "x" .. tostring(counter)
   local body = string.gsub(chosen.body, "{n}", unique)
   return wrk.format(chosen.method, chosen.path, json_headers, body)
end

function done(summary, latency, requests)
   local errors = summary.errors
   io.write(string.format(
      "BENCH-RESULT {\"requests\": %d, \"duration_us\": %d, \"bytes\": %d, "
         .. "\"errors\": {\"connect\": %d, \"read\": %d, \"write\": %d, \"status\": %d, \"timeout\": %d}, "
         .. "\"p50_us\": %d, \"p99_us\": %d, \"max_us\": %d, \"mean_us\": %.1f}\n",
      summary.requests, summary.duration, summary.bytes,
      errors.connect, errors.read, errors.write, errors.status, errors.timeout,
      latency:percentile(50), latency:percentile(99), latency.max, latency.mean))
end
