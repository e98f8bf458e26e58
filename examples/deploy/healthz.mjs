#!/usr/bin/env node
// The server's health check for an exec probe: GET /healthz over its unix
// socket (h2c). The TCP listener needs a client certificate, which kubelet's
// httpGet probe cannot present. Exits 0 on "200 ok", 1 otherwise (5 s at most).
//   node healthz.mjs [/run/tsbuild/tsbuild.sock]
import http2 from 'node:http2';
import net from 'node:net';

const socket = process.argv[2] ?? '/run/tsbuild/tsbuild.sock';
const fail = (why) => {
  process.stderr.write(`tsbuild healthz: ${why}\n`);
  process.exit(1);
};
setTimeout(() => fail('no answer in 5 s'), 5000).unref();
const session = http2.connect('http://localhost', { createConnection: () => net.connect(socket) });
session.on('error', (err) => fail(err.message));
const req = session.request({ ':method': 'GET', ':path': '/healthz' });
req.on('error', (err) => fail(err.message));
req.on('response', (headers) => {
  if (headers[':status'] !== 200) fail(`status ${headers[':status']}`);
  req.resume();
  req.on('end', () => session.close(() => process.exit(0)));
});
req.end();
