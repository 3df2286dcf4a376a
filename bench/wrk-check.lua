-- wrk script for bench/run: GET /v1/check for the addresses of a list,
-- in turn (wrk -s bench/wrk-check.lua URL -- LIST).
local addrs = {}
local i = 0

function init(args)
  for line in io.lines(args[1]) do
    addrs[#addrs + 1] = line:gsub("@", "%%40")
    if #addrs >= 100000 then break end
  end
end

function request()
  i = i % #addrs + 1
  return wrk.format("GET", "/v1/check?address=" .. addrs[i])
end
