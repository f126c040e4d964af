// A fast upstream: drains the body and answers 200. Counts requests for the harness.
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
process.on("message", () => process.send?.({ count }));
