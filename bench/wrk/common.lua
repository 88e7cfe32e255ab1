-- Shared by the wrk scripts of bench/gateway.sh: tokens and ids written by seed.py.
-- wrk ... -s <script>.lua <url> -- <state dir>
local M = {}

function M.load(dir)
  local tokens = {}
  for line in io.lines(dir .. "/tokens") do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  local ids = {}
  for line in io.lines(dir .. "/ids") do
    local k, v = line:match("^(%w+)=(%d+)$")
    if k then ids[k] = v end
  end
  return tokens, ids
end

return M
