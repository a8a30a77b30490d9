import { spawn } from "node:child_process";
const env = { ...process.env, PORT: "3999", HOST: "127.0.0.1", LOG_LEVEL: "warn", JWT_SECRET: "bench-secret-0123456789abcdef0123456789", DATABASE_URL: "postgres://postgres@127.0.0.1:5432/test", DATABASE_SCHEMA: "prof_" + Date.now(), RATE_LIMITS: "connect=1000000/1,room=1000000/1,other=1000000/1", MAX_CONNECTIONS_PER_USER: "100000" };
const child = spawn(process.execPath, ["--cpu-prof", "--cpu-prof-dir=/tmp/prof", "packages/server/dist/cli.js"], { env, stdio: ["ignore", "pipe", "inherit"] });
await new Promise((r) => child.stdout.on("data", (d) => String(d).includes("listening") && r()));
const { SignJWT } = await import("jose");
const { WebSocket } = await import("ws");
const key = new TextEncoder().encode(env.JWT_SECRET);
const N = Number(process.env.N ?? 3000); let next = 0; const socks = [];
const t0 = Date.now();
await Promise.all(Array.from({ length: 50 }, async () => {
  while (next < N) {
    const sub = "p" + next++;
    const token = await new SignJWT({ sub, tenant: "bench" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("2h").sign(key);
    await new Promise((resolve, reject) => {
      const ws = new WebSocket("ws://127.0.0.1:3999/socket.io/?EIO=4&transport=websocket");
      ws.on("message", (raw) => { const t = String(raw); if (t[0] === "0") ws.send("40" + JSON.stringify({ token })); else if (t.startsWith("40")) resolve(); else if (t === "2") ws.send("3"); });
      ws.on("error", reject); socks.push(ws);
    });
  }
}));
console.log("connected", N, "in", Date.now() - t0, "ms");
child.kill("SIGINT"); await new Promise((r) => child.on("exit", r));
for (const s of socks) s.terminate();
