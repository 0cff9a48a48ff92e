// A small HTTP service on node's http module: GET answers with JSON, as server.py.
const http = require("http");
const port = Number(process.argv[2]);

http.createServer((req, res) => {
	const body = `{"path": ${JSON.stringify(req.url)}, "pid": ${process.pid > 0}}`;
	res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) });
	res.end(body);
}).listen(port, "0.0.0.0", () => console.log("listening on", port));
