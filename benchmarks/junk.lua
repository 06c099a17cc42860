-- wrk script: a junk flood at the confirmation URL, from many "addresses".
--
--   wrk -t1 -c16 -d10s -s benchmarks/junk.lua http://127.0.0.1:PORT -- SHOP
--
-- Each request POSTs a form to /confirm/SHOP/<a random token> (every other one to a
-- shop that does not exist) with an X-Forwarded-For of one of 200 documentation
-- addresses: the hub under test trusts one proxy hop, so each looks like a stranger.

local shop = "bench"
local n = 0

function init(args)
  shop = args[1] or shop
  math.randomseed(os.time())
end

function request()
  n = n + 1
  local token = string.format("%08x%08x", math.random(0, 0x7fffffff), n)
  local target = (n % 2 == 0) and shop or "no-such-shop"
  local headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Forwarded-For"] = "203.0.113." .. (n % 200 + 1),
  }
  return wrk.format("POST", "/confirm/" .. target .. "/" .. token, headers, "etat=ok&montant=1.00&devise=EUR")
end
