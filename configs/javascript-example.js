// A legate.filters.http.javascript script (see configs/javascript-example.yaml and sdk-docs/filters/javascript.md).
// Module scope lives once per worker event loop: `served` counts the requests this worker's copy has seen.
// Edit this file while Legate runs: the next requests use the new code (a syntax error keeps the old code).
let served = 0;

async function envoy_on_request(handle) {
  const headers = handle.headers();
  served++;
  if (headers.get(":path").startsWith("/private") && headers.get("x-token") !== "let-me-in") {
    handle.respond({":status": "403", "content-type": "text/plain"}, "denied by javascript-example.js\n");
    return;
  }
  if (headers.get(":method") === "POST") {
    const body = await handle.body();          // waits for the whole request body
    if (body !== null) {
      headers.add("x-request-body-bytes", String(body.length()));
    }
  }
  headers.add("x-served-by-worker-copy", String(served));
}

function envoy_on_response(handle) {
  handle.headers().add("x-powered-by", "legate-javascript");
}
