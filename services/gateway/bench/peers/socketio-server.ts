/**
 * The Socket.IO peer: a single-node room-broadcast server, as small as a
 * Socket.IO chat gets. `join` (with an ack) puts a socket in a room; `send`
 * broadcasts the message to the room. GET /heap answers V8's used heap.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';

const http = createServer((request, response) => {
  if (request.url === '/heap') response.end(String(process.memoryUsage().heapUsed));
  else response.writeHead(404).end();
});
const io = new Server(http, { transports: ['websocket'], serveClient: false, perMessageDeflate: false });
io.on('connection', (socket) => {
  socket.on('join', (room: string, ack?: () => void) => {
    // The default in-memory adapter joins at once; the promise is the interface's, for adapters that do not.
    Promise.resolve(socket.join(room)).then(() => ack?.(), () => undefined);
  });
  socket.on('send', (message: { room: string; text: string }) => {
    io.to(message.room).emit('message', message);
  });
});
http.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`socket.io listening on ${(http.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => {
  io.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
