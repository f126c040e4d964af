// LINE-shaped webhook bodies of about 1 KiB, each with a unique webhookEventId, and their signatures.
import { createHmac, randomUUID } from "node:crypto";

export const CHANNEL_SECRET = "bench-channel-secret";

export function lineBody(i) {
  const text = `message ${i} `.padEnd(600, "x");
  return JSON.stringify({
    destination: "Udeadbeefdeadbeefdeadbeefdeadbeef",
    events: [
      {
        type: "message",
        webhookEventId: randomUUID(),
        timestamp: 1_700_000_000_000 + i,
        mode: "active",
        source: { type: "user", userId: `U${String(i % 100).padStart(32, "0")}` },
        deliveryContext: { isRedelivery: false },
        replyToken: "f6b1a8c2d3e4f5a6b7c8d9e0f1a2b3c4",
        message: { type: "text", id: String(1e15 + i), quoteToken: "q".repeat(60), text },
      },
    ],
  });
}

export const sign = (body) => createHmac("sha256", CHANNEL_SECRET).update(body).digest("base64");
