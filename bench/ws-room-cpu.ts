/**
 * Server CPU of a plain-WebSocket room broadcast: N clients of `/realtime/ws`
 * subscribed to `topic:x`, `POST /v1/events` at RATE/s for SECONDS; prints one
 * JSON line. For A/B comparisons of two builds (BENCH_CLI), run alternately:
 *
 *   N=1000 RATE=30 SECONDS=8 BENCH_CLI=<build>/cli.js npm run ws-room-cpu -w bench
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { SignJWT } from "jose";
import { startSwitchboard } from "./lib/server-process.js";
import { processCpuSeconds as cpu } from "./lib/stats.js";
import { paced } from "./lib/paced.js";

const SECRET = "bench-secret-0123456789abcdef0123456789";
const KEY = "acme-key-0123456789abcdef";
const N = Number(process.env.N ?? 1000), RATE = Number(process.env.RATE ?? 100), SECONDS = Number(process.env.SECONDS ?? 8);
const server = await startSwitchboard({ JWT_SECRET: SECRET, API_KEYS: `acme:${KEY}`, DATA_DIR: mkdtempSync(join(tmpdir(), "wsf-")), RATE_LIMITS: "connect=100000/1,room=100000/1" });
const secret = new TextEncoder().encode(SECRET);
let received = 0;
const sockets: WebSocket[] = [];
for (let i = 0; i < N; i += 50) {
  await Promise.all(Array.from({ length: Math.min(50, N - i) }, async (_, k) => {
    const token = await new SignJWT({ tenant: "acme" }).setProtectedHeader({ alg: "HS256" }).setSubject(`u${i + k}`).setExpirationTime("1h").sign(secret);
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/realtime/ws?token=${token}`);
    sockets.push(ws);
    await new Promise<void>((resolve, reject) => {
      ws.on("message", (raw) => {
        const frame = JSON.parse(String(raw));
        if (frame.type === "connected") ws.send(JSON.stringify({ type: "subscribe", id: "s", channel: "topic:x" }));
        else if (frame.type === "subscribed") resolve();
        else if (frame.type === "tick") received++;
        else if (frame.type === "error") reject(new Error(JSON.stringify(frame)));
      });
      ws.once("error", reject);
    });
  }));
}
await new Promise((r) => setTimeout(r, 2000));
const body = JSON.stringify({ channel: "topic:x", event: "tick", data: { pad: "x".repeat(300), n: 1 } });
const publish = () => fetch(`${server.url}/v1/events`, { method: "POST", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body }).then((r) => r.arrayBuffer());
const before = await cpu(server.pid);
const started = performance.now();
const sent = await paced(RATE, SECONDS * 1000, publish);
const elapsed = (performance.now() - started) / 1000;
const serverCpu = ((await cpu(server.pid)) - before) / elapsed;
await new Promise((r) => setTimeout(r, 1000));
console.log(JSON.stringify({ cli: process.env.BENCH_CLI, n: N, rate: RATE, sent, expected: sent * N, received, serverCpuPercent: Math.round(serverCpu * 1000) / 10 }));
for (const ws of sockets) ws.terminate();
await server.kill();
process.exit(0);
