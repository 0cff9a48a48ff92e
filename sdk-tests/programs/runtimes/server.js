// What a Node service does: an HTTP server answering its own client on
// loopback, child processes, worker threads, a signal; run by km and natively.
'use strict';
const http = require('http');
const cp = require('child_process');
const { Worker } = require('worker_threads');

function workers() {
	const code = `const { parentPort, workerData } = require('worker_threads');
		let s = 0; for (let i = workerData[0]; i < workerData[1]; i++) s += i;
		parentPort.postMessage(s);`;
	return Promise.all([0, 1, 2, 3].map(k => new Promise((resolve, reject) => {
		const w = new Worker(code, { eval: true, workerData: [k * 1e6, (k + 1) * 1e6] });
		w.on('message', resolve);
		w.on('error', reject);
	}))).then(sums => sums.reduce((a, b) => a + b, 0));
}

const server = http.createServer((req, res) => res.end('hello ' + req.url));
server.listen(0, '127.0.0.1', () => {
	http.get({ host: '127.0.0.1', port: server.address().port, path: '/client' }, res => {
		let body = '';
		res.on('data', c => body += c);
		res.on('end', async () => {
			console.log('http', res.statusCode, body);
			server.close();
			console.log('execSync', cp.execSync('echo hi').toString().trim());
			console.log('exec', cp.execSync('ls /usr/share/doc | sort | head -3 | wc -l').toString().trim());
			const child = cp.spawnSync('/bin/sh', ['-c', 'echo out; exit 4']);
			console.log('spawn', child.stdout.toString().trim(), child.status);
			console.log('workers', await workers());
			// The loop must stay alive until libuv delivers the signal.
			const deadline = setTimeout(() => process.exit(9), 10000);
			process.on('SIGUSR2', () => {
				clearTimeout(deadline);
				console.log('got SIGUSR2');
				process.exit(6);
			});
			process.kill(process.pid, 'SIGUSR2');
		});
	});
});
