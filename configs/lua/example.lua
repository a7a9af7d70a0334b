-- The default script of configs/lua-example.yaml: Envoy's Lua handle API, unchanged.
-- It never waits (no body(), bodyChunks(), trailers() or httpCall()), so Legate runs it directly on the
-- event loop.

function envoy_on_request(request_handle)
  local headers = request_handle:headers()
  headers:add("x-lua", "legate")
  if headers:get(":path") == "/private" and headers:get("authorization") == nil then
    request_handle:respond({[":status"] = "403", ["content-type"] = "text/plain"},
      "private: send an authorization header\n")
  end
end

function envoy_on_response(response_handle)
  response_handle:headers():add("x-lua-response", "legate")
end
