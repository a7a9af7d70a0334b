// WebSocket origin for WebSocketNodeIT (the `ws` package): listens on 127.0.0.1, an ephemeral port, and prints
// "LISTENING <port>". Greets each connection with "hello", answers a text message with "echo:<text>" and a binary
// one with the same bytes reversed, and prints "CLOSED <code> <reason>" when a client closes. Exits when stdin ends.
import { WebSocketServer } from 'ws';

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 << 20 });
server.on('listening', () => console.log(`LISTENING ${server.address().port}`));
server.on('connection', (socket, request) => {
  console.log(`CONNECTED ${request.url} via=${request.headers['x-forwarded-proto'] ?? 'none'}`);
  socket.send('hello');
  socket.on('message', (data, isBinary) => {
    if (isBinary) {
      socket.send(Buffer.from(data).reverse(), { binary: true });
    } else {
      socket.send(`echo:${data.toString('utf8')}`);
    }
  });
  socket.on('close', (code, reason) => console.log(`CLOSED ${code} ${reason.toString('utf8')}`));
});
process.stdin.resume();
process.stdin.on('end', () => { server.close(); process.exit(0); });
