/**
 * One load-generator process of the chat benchmark. It holds every connection of
 * the conversations it owns, so a message's sender and receivers share this
 * process's clock and latency needs no cross-process time sync.
 */
import { SignJWT } from "jose";
import { SioClient } from "./lib/sio-client.js";
import { logPauses } from "./lib/pause-log.js";

// Lines its GC pauses and stalls up with the slow-delivery timeline (a late receiver looks like a late server).
if (process.env.BENCH_DEBUG) logPauses("chat-worker");

interface Setup {
  url: string;
  secret: string;
  conversations: number[];
  usersPerConversation: number;
}

interface Conv {
  id: string;
  clients: SioClient[];
}

const convs: Conv[] = [];
let deliveries = 0;
let deliveryLatencies: number[] = [];
/** BENCH_DEBUG: [wall-clock ms of the send, latency ms] of each delivery over 25 ms, to line slow windows up with server and database logs. */
let slowDeliveries: [number, number][] = [];
const SLOW_MS = 25;
/** Messages sent from this time on (performance.now()) are measured; earlier ones are warm-up. */
let recordFrom = Infinity;

function send(message: unknown): void {
  process.send!(message);
}

async function token(secret: string, sub: string): Promise<string> {
  return new SignJWT({ sub, tenant: "bench", name: sub })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime("2h")
    .sign(new TextEncoder().encode(secret));
}

async function setup({ url, secret, conversations, usersPerConversation }: Setup): Promise<void> {
  for (const c of conversations) {
    const users = Array.from({ length: usersPerConversation }, (_, k) => `u${c * usersPerConversation + k}`);
    const clients = await Promise.all(
      users.map(async (sub) => {
        const client = new SioClient(url, await token(secret, sub));
        await client.connected;
        client.on("message:new", ({ message }) => {
          deliveries++;
          const sentAt = Number(message.body.slice(2));
          if (sentAt >= recordFrom) {
            const ms = performance.now() - sentAt;
            deliveryLatencies.push(ms);
            if (ms > SLOW_MS && process.env.BENCH_DEBUG) slowDeliveries.push([performance.timeOrigin + sentAt, ms]);
          }
        });
        return client;
      }),
    );
    const ack = await clients[0]!.request("conversation:create", { type: "group", participantIds: users.slice(1), title: `bench ${c}` });
    if (!ack.ok) throw new Error(`create failed: ${JSON.stringify(ack)}`);
    convs.push({ id: ack.data.conversation.id, clients });
  }
}

async function throughput(durationMs: number, window: number): Promise<void> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const deliveriesBefore = deliveries;
  let acked = 0;
  let failed = 0;
  const deadline = start + durationMs;
  await Promise.all(
    convs.flatMap((conv) =>
      Array.from({ length: window }, async () => {
        while (performance.now() < deadline) {
          const ack = await conv.clients[0]!.request("message:send", { conversationId: conv.id, body: `t=${performance.now()}` });
          if (ack.ok) acked++;
          else failed++;
        }
      }),
    ),
  );
  const elapsedMs = performance.now() - start;
  // CPU over the sending only, the span the stored rate is over (the harness reads the server's at the same deadline).
  const used = process.cpuUsage(cpu);
  await new Promise((resolve) => setTimeout(resolve, 500)); // let the last deliveries land
  send({ type: "throughput", acked, failed, deliveries: deliveries - deliveriesBefore, elapsedMs, cpuSeconds: (used.user + used.system) / 1e6 });
}

/**
 * Sends at `ratePerConversation` in every conversation for `warmupMs` +
 * `durationMs` and measures only the messages sent after the warm-up: the
 * server settles from the saturated throughput phase (its backlog, the garbage
 * that phase left) before the steady-rate latency is recorded.
 */
async function latency(ratePerConversation: number, durationMs: number, warmupMs: number): Promise<void> {
  deliveryLatencies = [];
  slowDeliveries = [];
  const ackLatencies: number[] = [];
  let failed = 0;
  let sent = 0;
  const start = performance.now();
  recordFrom = start + warmupMs;
  const interval = 1000 / ratePerConversation;
  const timers: NodeJS.Timeout[] = [];
  const pending: Promise<void>[] = [];
  convs.forEach((conv, i) => {
    // Stagger the conversations so the load is spread over each interval.
    const offset = (interval * i) / convs.length;
    timers.push(
      setTimeout(() => {
        timers.push(
          setInterval(() => {
            const t0 = performance.now();
            const measured = t0 >= recordFrom;
            if (measured) sent++;
            pending.push(
              conv.clients[0]!.request("message:send", { conversationId: conv.id, body: `t=${t0}` }).then((ack) => {
                if (!measured) return;
                if (ack.ok) ackLatencies.push(performance.now() - t0);
                else failed++;
              }),
            );
          }, interval),
        );
      }, offset),
    );
  });
  await new Promise((resolve) => setTimeout(resolve, warmupMs));
  const measuredCpu = process.cpuUsage();
  const measuredFrom = performance.now();
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  for (const t of timers) clearInterval(t);
  await Promise.all(pending);
  await new Promise((resolve) => setTimeout(resolve, 500));
  recordFrom = Infinity;
  const used = process.cpuUsage(measuredCpu);
  send({ type: "latency", sent, failed, ackLatencies, deliveryLatencies, slowDeliveries, cpuSeconds: (used.user + used.system) / 1e6, measuredMs: performance.now() - measuredFrom });
}

process.on("message", async (msg: any) => {
  try {
    if (msg.type === "setup") {
      await setup(msg);
      send({ type: "ready" });
    } else if (msg.type === "throughput") await throughput(msg.durationMs, msg.window);
    else if (msg.type === "latency") await latency(msg.ratePerConversation, msg.durationMs, msg.warmupMs ?? 0);
    else if (msg.type === "exit") {
      for (const conv of convs) for (const c of conv.clients) c.close();
      process.exit(0);
    }
  } catch (err) {
    send({ type: "error", message: (err as Error).stack ?? String(err) });
  }
});
