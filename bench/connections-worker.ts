/**
 * Load-generator process of the connections benchmark (issue 12, scenario 4):
 * opens its share of authenticated idle connections, a bounded number at a
 * time, and holds them until told to exit. The Socket.IO framing answers the
 * server's pings, so the connections stay up while idle.
 */
import { SignJWT } from "jose";
import { SioClient } from "./lib/sio-client.js";

const clients: SioClient[] = [];

async function open(msg: { url: string; secret: string; users: string[]; concurrency: number; switchboard: boolean }): Promise<void> {
  const key = new TextEncoder().encode(msg.secret);
  const start = performance.now();
  let failed = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: msg.concurrency }, async () => {
      while (next < msg.users.length) {
        const sub = msg.users[next++]!;
        const token = msg.switchboard ? await new SignJWT({ sub, tenant: "bench" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("2h").sign(key) : "";
        const client = new SioClient(msg.url, token);
        try {
          await client.connected;
          clients.push(client);
        } catch {
          failed++;
        }
      }
    }),
  );
  const cpu = process.cpuUsage();
  process.send!({ type: "opened", opened: clients.length, failed, seconds: (performance.now() - start) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 });
}

process.on("message", async (msg: any) => {
  try {
    if (msg.type === "open") await open(msg);
    else if (msg.type === "exit") {
      for (const c of clients) c.close();
      process.exit(0);
    }
  } catch (err) {
    process.send!({ type: "error", message: (err as Error).stack ?? String(err) });
  }
});
