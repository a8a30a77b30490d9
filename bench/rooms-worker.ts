/**
 * Load-generator process of the small-rooms benchmark (issue 12, scenario 2). It
 * holds whole rooms, so each message's sender and receivers share this
 * process's clock. Members send in turn; every other member of the room should
 * receive each message.
 */
import { SignJWT } from "jose";
import { mapLimited } from "./lib/limited.js";
import { paced } from "./lib/paced.js";
import { SioClient } from "./lib/sio-client.js";

interface Setup {
  target: "switchboard" | "socketio" | "raw-ws";
  url: string;
  secret: string;
  rooms: number[];
  members: number;
}

interface Room {
  /** Conversation id (Switchboard) or room name (peers). */
  id: string;
  clients: SioClient[];
  next: number;
}

const rooms: Room[] = [];
let target: Setup["target"] = "socketio";
let received = 0;
let latencies: number[] = [];
/** Deliveries of any step: quiet once the previous step's backlog has landed. */
let total = 0;
/** Messages sent before this time (performance.now()) belong to an earlier step and are not counted. */
let stepStart = Infinity;

async function token(secret: string, sub: string): Promise<string> {
  return new SignJWT({ sub, tenant: "bench", name: sub }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("2h").sign(new TextEncoder().encode(secret));
}

function onReceive(sentAt: number): void {
  total++;
  if (sentAt < stepStart) return;
  received++;
  latencies.push(performance.now() - sentAt);
}

async function setupRoom(setup: Setup, r: number): Promise<Room> {
  const users = Array.from({ length: setup.members }, (_, k) => `r${r}m${k}`);
  const clients = await Promise.all(
    users.map(async (sub) => {
      const client = new SioClient(setup.url, setup.target === "switchboard" ? await token(setup.secret, sub) : "");
      await client.connected;
      if (setup.target === "switchboard") client.on("message:new", ({ message }) => onReceive(Number(message.body.slice(2))));
      else client.on("bench:msg", (data: { t: number }) => onReceive(data.t));
      return client;
    }),
  );
  if (setup.target !== "switchboard") {
    await Promise.all(clients.map((c) => c.request("join", `room${r}`)));
    return { id: `room${r}`, clients, next: 0 };
  }
  const ack = await clients[0]!.request("conversation:create", { type: "group", participantIds: users.slice(1), title: `room ${r}` });
  if (!ack.ok) throw new Error(`create failed: ${JSON.stringify(ack)}`);
  return { id: ack.data.conversation.id, clients, next: 0 };
}

/** One message from the room's next member to the others. */
function sendOne(room: Room): Promise<unknown> {
  const sender = room.clients[room.next]!;
  room.next = (room.next + 1) % room.clients.length;
  const t = performance.now();
  return target === "switchboard"
    ? sender.request("message:send", { conversationId: room.id, body: `t=${t}` })
    : sender.request("send", { room: room.id, event: "bench:msg", data: { t } });
}

/** Waits until no delivery arrived for 200 ms (at most 5 s): an overloaded step's backlog must not run into the next. */
async function quiesce(): Promise<void> {
  const started = performance.now();
  for (let last = -1; total !== last && performance.now() - started < 5000; ) {
    last = total;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function step(rate: number, durationMs: number): Promise<void> {
  received = 0;
  latencies = [];
  const cpu = process.cpuUsage();
  stepStart = performance.now();
  let failed = 0;
  // Paced like the fan-out's publishes (lib/paced.ts): a constant rate, one send at a time below 1,000/s.
  const sent = await paced(rate, durationMs, (n) => sendOne(rooms[(n - 1) % rooms.length]!).then((ack: any) => void (ack && ack.ok === false && failed++)));
  // Let the last deliveries land: until every one expected has, or half a second.
  const expected = (sent - failed) * (rooms[0]!.clients.length - 1);
  for (const drainStart = performance.now(); received < expected && performance.now() - drainStart < 500; ) await new Promise((resolve) => setTimeout(resolve, 10));
  const used = process.cpuUsage(cpu);
  process.send!({ type: "step", sent, failed, received, latencies, cpuSeconds: (used.user + used.system) / 1e6 });
}

process.on("message", async (msg: any) => {
  try {
    if (msg.type === "setup") {
      target = msg.target;
      // 50 rooms (250 handshakes) set up at a time.
      rooms.push(...(await mapLimited(msg.rooms as number[], 50, (r) => setupRoom(msg, r))));
      process.send!({ type: "ready" });
    } else if (msg.type === "step") await step(msg.rate, msg.durationMs);
    else if (msg.type === "quiesce") await quiesce().then(() => process.send!({ type: "quiet" }));
    else if (msg.type === "exit") {
      for (const room of rooms) for (const c of room.clients) c.close();
      process.exit(0);
    }
  } catch (err) {
    process.send!({ type: "error", message: (err as Error).stack ?? String(err) });
  }
});
