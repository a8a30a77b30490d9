/**
 * Load-generator process of the connections benchmark (issue 12, scenario 4):
 * opens its share of authenticated idle connections, a bounded number at a
 * time, and holds them until told to exit. The harness mints the tokens
 * before the timed ramp. The Socket.IO framing answers the server's pings, so
 * the connections stay up while idle.
 */
import { SioClient } from "./lib/sio-client.js";
import { mapLimited } from "./lib/limited.js";

const clients: SioClient[] = [];

async function open(msg: { url: string; tokens: string[]; concurrency: number }): Promise<void> {
  const start = performance.now();
  const cpuBefore = process.cpuUsage();
  let failed = 0;
  await mapLimited(msg.tokens, msg.concurrency, async (token) => {
    const client = new SioClient(msg.url, token);
    try {
      await client.connected;
      clients.push(client);
    } catch {
      failed++;
    }
  });
  // The ramp's own CPU: the process's start-up is not in it.
  const cpu = process.cpuUsage(cpuBefore);
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
