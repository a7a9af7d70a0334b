// Real gRPC-Web clients for GrpcWebIT, calling grpc.testing.TestService through Legate:
//  - the `grpc-web` runtime (Google's, as browsers use it; XMLHttpRequest from `xhr2`), format "text"
//    (application/grpc-web-text) and "binary" (application/grpc-web+proto);
//  - @connectrpc/connect-node's gRPC-Web transport (binary, HTTP/1.1), which reads a binary server stream as it
//    arrives (the grpc-web runtime documents server streaming for its text mode only).
// Messages are built and parsed by @bufbuild/protobuf from the interop suite's descriptors (a FileDescriptorSet
// file the Java test writes), never by hand.
// Usage: node grpc-web-client.mjs BASE_URL DESCRIPTOR_SET_FILE
// Prints one line per case, "RESULT <case> <facts...>", then "DONE"; exits 1 on an unexpected failure.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { create, createFileRegistry, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { createClient } from '@connectrpc/connect';
import { createGrpcWebTransport } from '@connectrpc/connect-node';

const require = createRequire(import.meta.url);
globalThis.XMLHttpRequest = require('xhr2');
const grpcWeb = require('grpc-web');

const [base, descriptorFile] = process.argv.slice(2);
const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(descriptorFile)));
const SimpleRequest = registry.getMessage('grpc.testing.SimpleRequest');
const SimpleResponse = registry.getMessage('grpc.testing.SimpleResponse');
const StreamingOutputCallRequest = registry.getMessage('grpc.testing.StreamingOutputCallRequest');
const StreamingOutputCallResponse = registry.getMessage('grpc.testing.StreamingOutputCallResponse');
const TestService = registry.getService('grpc.testing.TestService');

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const requestPayload = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);

function descriptor(name, type, req, res) {
  return new grpcWeb.MethodDescriptor(`/grpc.testing.TestService/${name}`, type, Object, Object,
    (m) => toBinary(req, m), (bytes) => fromBinary(res, bytes));
}
const unary = descriptor('UnaryCall', grpcWeb.MethodType.UNARY, SimpleRequest, SimpleResponse);
const streaming = descriptor('StreamingOutputCall', grpcWeb.MethodType.SERVER_STREAMING,
  StreamingOutputCallRequest, StreamingOutputCallResponse);
const metadata = { 'x-user-agent': 'grpc-web-javascript/0.1' };

function withTimeout(promise, what) {
  let timer;
  return Promise.race([promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer in 15 s`)), 15000); })]);
}

// grpc-web runtime, unary: the callback gets the response; the 'status' event carries the trailer frame's status.
function webUnary(format, request) {
  const client = new grpcWeb.GrpcWebClientBase({ format });
  return withTimeout(new Promise((resolve) => {
    let response; let status;
    const call = client.rpcCall(`${base}/grpc.testing.TestService/UnaryCall`, create(SimpleRequest, request),
      metadata, unary, (err, res) => {
        if (err) { resolve({ error: err }); return; }
        response = res;
        if (status) resolve({ response, status });
      });
    call.on('status', (s) => { status = s; if (response) resolve({ response, status }); });
  }), `unary ${format}`);
}

function webStream(format, sizes) {
  const client = new grpcWeb.GrpcWebClientBase({ format });
  const request = create(StreamingOutputCallRequest, { responseParameters: sizes.map((size) => ({ size })) });
  return withTimeout(new Promise((resolve) => {
    const messages = []; let status;
    const stream = client.serverStreaming(`${base}/grpc.testing.TestService/StreamingOutputCall`, request, metadata, streaming);
    stream.on('data', (m) => messages.push(m));
    stream.on('status', (s) => { status = s; });
    stream.on('error', (e) => resolve({ messages, error: e }));
    stream.on('end', () => resolve({ messages, status }));
  }), `stream ${format}`);
}

const describe = (messages) => messages.map((m) => `${m.payload.body.length}:${sha256(m.payload.body)}`).join(',');

async function main() {
  for (const format of ['text', 'binary']) {
    const u = await webUnary(format, { responseSize: 3000, payload: { body: requestPayload } });
    if (u.error) {
      console.log(`RESULT web-unary-${format} error code=${u.error.code} message=${u.error.message}`);
    } else {
      console.log(`RESULT web-unary-${format} status=${u.status.code} size=${u.response.payload.body.length}`
        + ` body=${sha256(u.response.payload.body)} received=${u.response.hostname}`);
    }
    const e = await webUnary(format, { responseStatus: { code: 5, message: 'no such thing' } });
    console.log(`RESULT web-error-${format} code=${e.error?.code} message=${e.error?.message}`);
  }
  for (const format of ['text', 'binary']) {
    const s = await webStream(format, [1000, 20000, 3]);
    console.log(`RESULT web-stream-${format} status=${s.status?.code ?? 'none'} error=${s.error?.code ?? 'none'}`
      + ` messages=${describe(s.messages)}`);
  }

  const transport = createGrpcWebTransport({ baseUrl: base, httpVersion: '1.1', useBinaryFormat: true });
  const client = createClient(TestService, transport);
  const r = await withTimeout(client.unaryCall({ responseSize: 70000, payload: { body: requestPayload } }),
    'connect unary');
  console.log(`RESULT connect-unary size=${r.payload.body.length} body=${sha256(r.payload.body)} received=${r.hostname}`);
  const messages = [];
  await withTimeout((async () => {
    for await (const m of client.streamingOutputCall({ responseParameters: [{ size: 1000 }, { size: 20000 }, { size: 3 }] })) {
      messages.push(m);
    }
  })(), 'connect stream');
  console.log(`RESULT connect-stream messages=${describe(messages)}`);
  console.log('DONE');
}

main().catch((e) => { console.error(e); process.exit(1); });
