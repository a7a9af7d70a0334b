// WebSocket client for WebSocketNodeIT (the `ws` package), through Legate.
// Usage: node ws-client.mjs WS_URL REJECTED_WS_URL
// Against WS_URL: waits for the server's "hello", sends a text message, a small binary message and a 8 MiB
// binary message (each answered before the next is sent), then closes with 4000 "bye". Against REJECTED_WS_URL
// (a route without WebSocket) it reports the HTTP status of the refused upgrade.
// Prints "RESULT <case> <facts>" lines, then "DONE"; exits 1 on an unexpected failure.
import { createHash, randomBytes } from 'node:crypto';
import WebSocket from 'ws';

const [url, rejectedUrl] = process.argv.slice(2);
const sha256 = (b) => createHash('sha256').update(b).digest('hex');

function open(target) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(target, { maxPayload: 64 << 20, handshakeTimeout: 10000 });
    const inbox = [];
    const waiters = [];
    socket.on('message', (data, isBinary) => {
      const m = { data: Buffer.from(data), isBinary };
      if (waiters.length) waiters.shift()(m); else inbox.push(m);
    });
    socket.next = () => new Promise((res, rej) => {
      if (inbox.length) { res(inbox.shift()); return; }
      const t = setTimeout(() => rej(new Error('no message in 15 s')), 15000);
      waiters.push((m) => { clearTimeout(t); res(m); });
    });
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (req, res) => reject(Object.assign(new Error('refused'), { status: res.statusCode })));
    socket.once('error', reject);
  });
}

async function main() {
  const socket = await open(url);
  const hello = await socket.next();
  console.log(`RESULT hello binary=${hello.isBinary} text=${hello.data.toString('utf8')}`);

  socket.send('ping ✓');
  const echo = await socket.next();
  console.log(`RESULT text binary=${echo.isBinary} text=${echo.data.toString('utf8')}`);

  socket.send(Buffer.from([1, 2, 3, 4, 5]), { binary: true });
  const small = await socket.next();
  console.log(`RESULT binary binary=${small.isBinary} bytes=${[...small.data].join(',')}`);

  const big = randomBytes(8 << 20);
  socket.send(big, { binary: true });
  const bigEcho = await socket.next();
  console.log(`RESULT large binary=${bigEcho.isBinary} size=${bigEcho.data.length}`
    + ` reversed=${sha256(bigEcho.data) === sha256(Buffer.from(big).reverse())}`);

  const closed = new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  socket.close(4000, 'bye');
  const c = await Promise.race([closed, new Promise((r) => setTimeout(() => r({ code: 'timeout' }), 10000).unref())]);
  console.log(`RESULT close code=${c.code} reason=${c.reason}`);

  try {
    const s = await open(rejectedUrl);
    s.terminate();
    console.log('RESULT rejected status=101');
  } catch (e) {
    console.log(`RESULT rejected status=${e.status ?? e.message}`);
  }
  console.log('DONE');
}

main().catch((e) => { console.error(e); process.exit(1); });
