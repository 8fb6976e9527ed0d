/**
 * The floor for the class-start rush: a bare socket.io server on the same
 * port layout, whose '/media' and '/qa' namespaces answer a 'join' at once
 * with a small payload (no session, no database, no SFU). Run by run.ts:
 *   node --import tsx bench/class-start/raw-server.ts <port>
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.argv[2]);
const httpServer = createServer();
const io = new Server(httpServer, { serveClient: false });
for (const namespace of ['/media', '/qa']) {
	io.of(namespace).on('connection', (socket) => {
		socket.on('join', (classId: string, ack: (reply: object) => void) => {
			void socket.join(classId);
			ack({ ok: true, classId, questions: [] });
		});
	});
}
httpServer.listen(port, '127.0.0.1', () => console.log('listening'));
