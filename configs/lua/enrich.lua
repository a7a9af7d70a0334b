-- The script of the /enrich route (LuaPerRoute name: enrich) in configs/lua-example.yaml.
-- It waits twice: for an httpCall to the "backend" cluster, and for the whole response body. Legate runs such
-- calls on a virtual thread that takes turns with the event loop, which never blocks.

function envoy_on_request(request_handle)
  local headers, body = request_handle:httpCall(
    "backend",
    {[":method"] = "GET", [":path"] = "/user", [":authority"] = "backend"},
    nil,
    1000)
  request_handle:streamInfo():dynamicMetadata():set("envoy.filters.http.lua", "user", body)
end

function envoy_on_response(response_handle)
  local user = response_handle:streamInfo():dynamicMetadata():get("envoy.filters.http.lua")["user"]
  response_handle:headers():add("x-user", user)
  local body = response_handle:body()
  body:setBytes(string.upper(body:getBytes(0, body:length())))
end
