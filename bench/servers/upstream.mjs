// A fast upstream: drains the body and answers 200. Tells the harness, on request, how many
// requests it has answered and the CPU time it has used (ms, all threads).
import { createServer } from "node:http";

let count = 0;
const server = createServer((req, res) => {
  req.on("data", () => {});
  req.on("end", () => {
    count++;
    res.writeHead(200, { "content-length": "2" });
    res.end("ok");
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ msg: "listening", port: server.address().port })}\n`);
});
process.on("message", () => {
  const { user, system } = process.cpuUsage();
  process.send?.({ count, cpuMs: (user + system) / 1000 });
});
