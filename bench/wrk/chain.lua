-- Reads a whole thread page by page: each wrk thread owns one connection and sends the plan's
-- paths in order, again and again. A full read is the whole chain; its latency (first request
-- sent to last response read) is measured here with the monotonic clock, and the result is
-- printed as one JSON line after "BENCH-RESULT ". Run with as many threads as connections.
-- Usage: wrk -tC -cC ... -s chain.lua URL -- PLAN_FILE   (plan: one path a line)

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("bench_timespec")

local function now_us()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
   return tonumber(timespec.tv_sec) * 1000000 + math.floor(tonumber(timespec.tv_nsec) / 1000)
end

local threads = {}
local paths = {}
local position = 1
local chain_started = nil

-- Read back by done() through thread:get, so they are globals of each thread's state.
full_reads = {}
failed_reads = 0

function setup(thread)
   threads[#threads + 1] = thread
end

function init(args)
   local plan = assert(io.open(args[1], "r"))
   for line in plan:lines() do
      if #line > 0 then paths[#paths + 1] = line end
   end
   plan:close()
end

local chain_failed = false

function request()
   if position == 1 then
      chain_started = now_us()
      chain_failed = false
   end
   return wrk.format("GET", paths[position])
end

function response(status, headers, body)
   if status >= 300 then chain_failed = true end
   position = position + 1
   if position > #paths then
      if chain_failed then
         failed_reads = failed_reads + 1
      else
         full_reads[#full_reads + 1] = now_us() - chain_started
      end
      position = 1
   end
end

function done(summary, latency, requests)
   local all = {}
   local failed = 0
   for _, thread in ipairs(threads) do
      for _, value in ipairs(thread:get("full_reads") or {}) do all[#all + 1] = value end
      failed = failed + (thread:get("failed_reads") or 0)
   end
   table.sort(all)
   local function nearest_rank(share)
      if #all == 0 then return 0 end
      local rank = math.max(1, math.floor(share * #all + 0.5))
      return all[math.min(rank, #all)]
   end
   local sum = 0
   for _, value in ipairs(all) do sum = sum + value end
   local errors = summary.errors
   io.write(string.format(
      "BENCH-RESULT {\"requests\": %d, \"page_requests\": %d, \"duration_us\": %d, \"bytes\": %d, "
         .. "\"errors\": {\"connect\": %d, \"read\": %d, \"write\": %d, \"status\": %d, \"timeout\": %d, "
         .. "\"failed_reads\": %d}, \"p50_us\": %d, \"p99_us\": %d, \"max_us\": %d, \"mean_us\": %.1f}\n",
      #all, summary.requests, summary.duration, summary.bytes,
      errors.connect, errors.read, errors.write, errors.status, errors.timeout, failed,
      nearest_rank(0.50), nearest_rank(0.99), all[#all] or 0, #all > 0 and sum / #all or 0))
end
