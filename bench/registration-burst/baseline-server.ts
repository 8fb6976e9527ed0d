/**
 * The HTTP floor for the registration burst: a bare `node:http` server that
 * reads the same POST (cookie, form body) and answers what the form action
 * answers, without a database. Run by run.ts as its own process:
 *   node --import tsx bench/registration-burst/baseline-server.ts <port>
 */
import http from 'node:http';

const port = Number(process.argv[2]);
const reply = JSON.stringify({
	type: 'success',
	status: 200,
	data: '[{"registered":1},"CONFIRMED"]'
});

http
	.createServer((req, res) => {
		let body = '';
		req.setEncoding('utf8');
		req.on('data', (chunk: string) => (body += chunk));
		req.on('end', () => {
			const session = /(?:^|;\s*)tc_session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
			const form = new URLSearchParams(body);
			const ok = req.method === 'POST' && session !== undefined;
			res.writeHead(ok ? 200 : 400, {
				'content-type': 'application/json',
				'x-form-fields': String(form.size)
			});
			res.end(ok ? reply : '{"type":"error"}');
		});
	})
	.listen(port, '127.0.0.1', () => console.log('listening'));
