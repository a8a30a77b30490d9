/**
 * What connection state recovery keeps in a single node's memory per chat
 * message (README, `RECOVERY_WINDOW_MS`): Switchboard on Postgres with the
 * default window and with recovery off, a three-person group conversation,
 * N messages sent by one member (8 in flight) and delivered to the others. The
 * heap is read after forced full collections (`lib/heap-probe.ts`) before and
 * after, once every message has landed; the difference per message is what
 * the server keeps alive, the recovery buffer's share being the difference
 * between the two settings.
 *
 *   npm run bench:recovery-memory -- [--messages 5000]
 *
 * `BENCH_CLI` measures another build (e.g. one with Socket.IO's own adapter).
 */
import { readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { io, type Socket } from "socket.io-client";
import { benchDatabase } from "./lib/database.js";
import { mapLimited } from "./lib/limited.js";
import { argValue, runHeader, writeRun } from "./lib/report.js";
import { startSwitchboard } from "./lib/server-process.js";
import { SWITCHBOARD_BENCH_ENV, benchToken } from "./lib/targets.js";

const args = process.argv.slice(2);
const MESSAGES = Number(argValue(args, "--messages") ?? 5000);
const WARMUP = 300;
const probe = fileURLToPath(new URL("./lib/heap-probe.ts", import.meta.url));
const probeDir = tmpdir();
process.env.BENCH_NODE_ARGS = `${process.env.BENCH_NODE_ARGS ?? ""} --expose-gc --import tsx --import ${probe}`.trim();
process.env.BENCH_PROBE_DIR = probeDir;

async function heapUsed(pid: number): Promise<number> {
  const file = join(probeDir, `heap-probe-${pid}.json`);
  await rm(file, { force: true });
  process.kill(pid, "SIGUSR2");
  for (let waited = 0; waited < 5000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const text = await readFile(file, "utf8").catch(() => "");
    if (text) return (JSON.parse(text) as { heapUsed: number }).heapUsed;
  }
  throw new Error("the server's heap probe did not answer");
}

async function measure(label: string, env: Record<string, string>) {
  const db = await benchDatabase("postgres");
  const server = await startSwitchboard({ ...SWITCHBOARD_BENCH_ENV, RATE_LIMITS: "message=1000000/1,conversation=1000000/1,connect=1000000/1", ...env, ...db.env });
  const sockets: Socket[] = [];
  try {
    const connect = async (user: string) => {
      const socket = io(server.url, { transports: ["websocket"], auth: { token: await benchToken(user) } });
      sockets.push(socket);
      await new Promise((resolve, reject) => {
        socket.once("connected", resolve);
        socket.once("connect_error", reject);
      });
      return socket;
    };
    const [alice, bob] = [await connect("alice"), await connect("bob"), await connect("carol")];
    const created = await alice!.emitWithAck("conversation:create", { type: "group", participantIds: ["bob", "carol"], title: "memory" });
    const conversationId = created.data.conversation.id as string;
    let delivered = 0;
    bob!.on("message:new", () => delivered++);
    const send = async (i: number) => {
      const reply = await alice!.emitWithAck("message:send", { conversationId, body: `See you at 3pm for the follow-up, and bring the forms from last week. ${i}`, clientMessageId: `m-${i}` });
      if (!reply.ok) throw new Error(`message:send failed: ${JSON.stringify(reply.error)}`);
    };
    const sendAll = (from: number, count: number) => mapLimited(Array.from({ length: count }, (_, k) => from + k), 8, send);
    const landed = async (count: number) => {
      for (let waited = 0; delivered < count; waited += 20) {
        if (waited > 30_000) throw new Error(`only ${delivered} of ${count} messages delivered`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    // Warm-up: code paths, pools and caches settle before the first reading.
    await sendAll(0, WARMUP);
    await landed(WARMUP);
    const before = await heapUsed(server.pid);
    await sendAll(WARMUP, MESSAGES);
    await landed(WARMUP + MESSAGES);
    const after = await heapUsed(server.pid);
    return { setting: label, messages: MESSAGES, heapBeforeMiB: Math.round(before / 2 ** 20), heapAfterMiB: Math.round(after / 2 ** 20), keptBytesPerMessage: Math.round((after - before) / MESSAGES) };
  } finally {
    for (const socket of sockets) socket.close();
    await server.stop();
    await db.drop();
  }
}

const header = await runHeader("recovery-memory", `npm run bench:recovery-memory -- ${args.join(" ")}`.trim());
const results = [await measure("recovery on (default window)", {}), await measure("recovery off", { RECOVERY_WINDOW_MS: "0" })];
const file = await writeRun({ ...header, results });
console.log(`recovery memory, commit ${header.commit}, ${header.date}, written to ${file}\n`);
console.log("| setting | messages | heap before -> after (after full GC) | kept per message |");
console.log("|---|---|---|---|");
for (const r of results) console.log(`| ${r.setting} | ${r.messages} | ${r.heapBeforeMiB} -> ${r.heapAfterMiB} MiB | ${r.keptBytesPerMessage} B |`);
console.log(`\nthe recovery buffer's share: ${results[0]!.keptBytesPerMessage - results[1]!.keptBytesPerMessage} B per message`);
process.exit(0);
