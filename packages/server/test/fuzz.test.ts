import { WebSocket } from "ws";
import { describe, expect, it } from "vitest";
import { onCleanup, request, startServer, type TestServer } from "./support/server-harness.js";

/**
 * Throws 100,000 random and mutated frames at a running server over several raw
 * WebSocket connections (Socket.IO framing and /realtime/ws JSON), then checks
 * that the server still answers. Reproduce a failure with FUZZ_SEED=<seed>.
 */
const TOTAL_FRAMES = 100_000;
const BATCH = 200;
const SIO_CONNECTIONS = 3;
const WS_CONNECTIONS = 3;

/** mulberry32: small, fast, seedable. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

const EVENTS = [
  "room:join", "room:leave", "room:participants", "conversation:create", "conversation:list", "conversation:get",
  "conversation:addParticipants", "conversation:removeParticipants", "conversation:leave", "message:send", "message:history",
  "message:edit", "message:delete", "message:delivered", "message:read", "typing:start", "typing:stop", "presence:setStatus",
  "presence:get", "presence:subscribe", "presence:unsubscribe", "presence:setActivity", "presence:viewers", "notification:list",
  "notification:read", "notification:readAll", "notification:getUnreadCount", "notification:subscribe", "notification:unsubscribe",
  "call:initiate", "call:accept", "call:reject", "call:end", "call:signal", "call:quality", "crisis:acknowledge", "crisis:resolve",
  "crisis:list", "__proto__", "constructor", "hasOwnProperty", "toString", "", "error", "ping", "message",
] as const;
/** Names Socket.IO's parser refuses outright (the connection is closed). */
const RESERVED = ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"] as const;
const KEYS = ["room", "conversationId", "messageId", "callId", "alertId", "id", "body", "type", "participantIds", "userIds", "upToSeq",
  "beforeSeq", "afterSeq", "limit", "before", "status", "custom", "resource", "active", "topics", "calleeIds", "media", "to", "signal",
  "sdp", "candidate", "title", "clientMessageId", "replyTo", "__proto__", "constructor", "prototype", "channel", "event", "payload"] as const;
const STRINGS = ["topic:a", "user:alice", "tenant:acme", "tenant:globex", "presence:bob", "viewers:patient:1", "conversation:x", "patient:42",
  "00000000-0000-4000-8000-000000000000", "alice", "bob", "group", "direct", "audio", "video", "online", "offline", "in_call", "offer", "",
  "\u0000", "\ud800", "\u202e", "../../etc/passwd", "' OR 1=1 --", "<script>", "%00", "a".repeat(200), "x".repeat(3000)] as const;

function randomString(rng: Rng): string {
  if (rng.chance(0.6)) return rng.pick(STRINGS);
  const length = rng.int(40);
  let s = "";
  for (let i = 0; i < length; i++) s += String.fromCharCode(rng.chance(0.9) ? 32 + rng.int(95) : rng.int(0x10000));
  return s;
}

function randomValue(rng: Rng, depth = 0): unknown {
  const roll = rng.int(depth > 4 ? 6 : 9);
  switch (roll) {
    case 0: return null;
    case 1: return rng.chance(0.5);
    case 2: return rng.pick([0, -1, 1, 1.5, 2 ** 31, 2 ** 53 + 1, -0, 1e308, Number.MAX_SAFE_INTEGER]);
    case 3:
    case 4:
    case 5: return randomString(rng);
    case 6: return Array.from({ length: rng.int(4) }, () => randomValue(rng, depth + 1));
    default: return randomObject(rng, depth + 1);
  }
}

function randomObject(rng: Rng, depth = 0): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = rng.int(5); i > 0; i--) o[rng.chance(0.8) ? rng.pick(KEYS) : randomString(rng)] = randomValue(rng, depth);
  return o;
}

/** Nested far past any sane depth, to probe recursive parsers and validators. */
const deep = (rng: Rng) => (rng.chance(0.5) ? "[".repeat(2000) + "1" + "]".repeat(2000) : '{"a":'.repeat(2000) + "1" + "}".repeat(2000));

function randomPayloadJson(rng: Rng): string {
  if (rng.chance(0.01)) return deep(rng);
  return JSON.stringify(rng.chance(0.85) ? randomObject(rng) : randomValue(rng)) ?? "null";
}

function truncate(rng: Rng, frame: string): string {
  return frame.slice(0, rng.int(frame.length));
}

/** A known event name, or one mutated (case, a character added or cut) so it is near-miss unknown. */
function eventName(rng: Rng): string {
  const name = rng.pick(EVENTS);
  switch (rng.int(6)) {
    case 0: return name.toUpperCase();
    case 1: return name + String.fromCharCode(32 + rng.int(95));
    case 2: return name.slice(0, rng.int(name.length + 1));
    case 3: return ` ${name}`;
    default: return name;
  }
}

/** A well-framed Socket.IO request with mutated fields: the server must answer or ignore it, never close. */
function sioFrame(rng: Rng): string {
  const roll = rng.next();
  const ack = rng.chance(0.7) ? String(rng.chance(0.95) ? rng.int(1_000_000) : rng.pick(["99999999999999999999", "9007199254740993"])) : "";
  const event = JSON.stringify(rng.chance(0.95) ? eventName(rng) : rng.chance(0.5) ? randomString(rng) : rng.int(100));
  if (roll < 0.8) return `42${ack}[${event},${randomPayloadJson(rng)}]`;
  if (roll < 0.9) return `42${ack}[${event}]`;
  return `42${ack}[${event},${randomPayloadJson(rng)},${randomPayloadJson(rng)}]`;
}

/** A Socket.IO frame the parser refuses: the server closes the connection (and only it). */
function fatalSioFrame(rng: Rng): { frames: (string | Buffer)[]; kind: string } {
  const ack = rng.int(1000);
  switch (rng.int(9)) {
    case 0: {
      // A strict, non-empty prefix of a JSON array is never valid JSON.
      const json = `[${JSON.stringify(rng.pick(EVENTS))},${randomPayloadJson(rng)}]`;
      return { kind: "truncated", frames: [`42${ack}${json.slice(0, 1 + rng.int(json.length - 1))}`] };
    }
    case 1: return { kind: "garbage", frames: [`9${randomString(rng)}`] };
    case 2: return { kind: "binary", frames: [Buffer.from(Array.from({ length: 1 + rng.int(64) }, () => rng.int(256)))] };
    case 3: return { kind: "reserved-name", frames: [`42${ack}[${JSON.stringify(rng.pick(RESERVED))},{}]`] };
    case 4: return { kind: "non-string-name", frames: [`42${ack}[${JSON.stringify(rng.pick([null, true, {}, []]))},{}]`] };
    case 5: return { kind: "placeholder-out-of-range", frames: [`451-${ack}["room:join",{"_placeholder":true,"num":${1 + rng.int(5)}}]`, Buffer.from([1])] };
    case 6: return { kind: "not-an-array", frames: [`42${ack}${JSON.stringify(randomObject(rng))}`] };
    case 7: return { kind: "ack-id-not-an-integer", frames: [`42${ack}e5["room:join",{}]`] };
    default: return { kind: "second-connect", frames: [`40${JSON.stringify({ token: randomString(rng) })}`] };
  }
}

/** A /realtime/ws frame: JSON frames with mutated fields, truncated JSON, random bytes. */
function wsFrame(rng: Rng): string | Buffer {
  const roll = rng.next();
  const type = rng.pick(["ping", "subscribe", "unsubscribe", "request", "request", "request", "explode", "", "response"]);
  const base: Record<string, unknown> = { type, id: rng.chance(0.5) ? rng.int(1000) : randomValue(rng) };
  if (type === "subscribe" || type === "unsubscribe") base.channel = rng.chance(0.7) ? rng.pick(STRINGS) : randomValue(rng);
  if (type === "request") {
    base.event = rng.chance(0.9) ? eventName(rng) : randomValue(rng);
    base.payload = rng.chance(0.8) ? randomObject(rng) : randomValue(rng);
  }
  if (rng.chance(0.3)) Object.assign(base, randomObject(rng));
  const json = JSON.stringify(base);
  if (roll < 0.75) return json;
  if (roll < 0.85) return truncate(rng, json);
  if (roll < 0.88) return `{"type":"request","event":"room:join","payload":${deep(rng)}}`;
  if (roll < 0.94) return Buffer.from(Array.from({ length: rng.int(64) }, () => rng.int(256)));
  return randomString(rng);
}

const unexpectedCloseCodes: Record<string, number> = {};

/** One raw connection that reopens itself whenever the server closes it. */
class Lane {
  private ws!: WebSocket;
  private inbox: string[] = [];
  private closed = false;
  reopened = 0;
  stalls = 0;

  constructor(
    private readonly t: TestServer,
    private readonly kind: "sio" | "ws",
    private readonly sub: string,
  ) {}

  async open(): Promise<void> {
    const base = this.t.url.replace(/^http/, "ws");
    const token = await this.t.token({ sub: this.sub, tenant: "acme" });
    const ws = new WebSocket(this.kind === "sio" ? `${base}/socket.io/?EIO=4&transport=websocket` : `${base}/realtime/ws?token=${token}`);
    this.ws = ws;
    this.closed = false;
    this.inbox = [];
    onCleanup(async () => ws.terminate());
    ws.on("message", (data, isBinary) => {
      // Engine.IO heartbeat: answer the server's ping, or a long run is closed by the ping timeout.
      if (this.kind === "sio" && !isBinary && data.toString() === "2") ws.send("3");
      if (!isBinary) this.inbox.push(data.toString());
      if (this.inbox.length > 2000) this.inbox.splice(0, 1000);
    });
    ws.on("close", (code) => {
      this.closed = true;
      this.lastCloseCode = code;
    });
    ws.on("error", () => {});
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    if (this.kind === "sio") {
      await this.waitFor((m) => m.startsWith("0{"), 3000);
      ws.send(`40${JSON.stringify({ token })}`);
      await this.waitFor((m) => m.startsWith('42["connected"'), 3000);
    } else {
      await this.waitFor((m) => m.includes('"type":"connected"'), 3000);
    }
  }

  private async waitFor(match: (m: string) => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (this.inbox.some(match)) return true;
      if (this.closed) return false;
      await new Promise((r) => setTimeout(r, 2));
    }
    return false;
  }

  /**
   * Sends a batch, then either a sentinel whose answer proves the server read every frame
   * before it, or (Socket.IO) a fatal frame after which the server must close the connection.
   * Returns how many frames the server provably read.
   */
  async sendBatch(frames: (string | Buffer)[], batchNo: number, fatal?: (string | Buffer)[]): Promise<number> {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) {
      this.reopened++;
      await this.open();
    }
    for (const frame of frames) this.ws.send(frame, { binary: Buffer.isBuffer(frame) });
    if (fatal) {
      for (const frame of fatal) this.ws.send(frame, { binary: Buffer.isBuffer(frame) });
      const deadline = Date.now() + 5000;
      while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
      if (!this.closed) {
        this.survivedFatal++;
        this.ws.terminate();
        this.closed = true;
        return frames.length;
      }
      return frames.length + fatal.length;
    }
    const sentinel = 900_000_000 + batchNo;
    if (this.kind === "sio") this.ws.send(`42${sentinel}["room:participants",{"room":"user:${this.sub}"}]`);
    else this.ws.send(JSON.stringify({ type: "ping", id: `s${sentinel}` }));
    const answered = await this.waitFor((m) => (this.kind === "sio" ? m.startsWith(`43${sentinel}[`) : m.includes(`"id":"s${sentinel}"`)), 5000);
    if (answered) return frames.length;
    if (this.closed) {
      this.unexpectedCloses++;
      const key = `${this.kind}:${this.lastCloseCode}`;
      unexpectedCloseCodes[key] = (unexpectedCloseCodes[key] ?? 0) + 1;
      if (process.env.FUZZ_DEBUG) console.log("[fuzz] closed after", key, JSON.stringify(frames.map(String).slice(-3)).slice(0, 3000));
    }
    else {
      this.stalls++;
      this.ws.terminate();
      this.closed = true;
    }
    return 0;
  }
  survivedFatal = 0;
  lastCloseCode = 0;
  unexpectedCloses = 0;
}

describe("protocol fuzzing", () => {
  it("100,000 random and mutated frames leave the server healthy: /healthz 200, no internal errors, a normal client gets its ack", { timeout: 300_000 }, async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`[fuzz] seed ${seed} (rerun with FUZZ_SEED=${seed})`);
    const rng = prng(seed);
    const t = await startServer({
      env: {
        RATE_LIMITS: "other=100000000/1,room=100000000/1,message=100000000/1,read=100000000/1,typing=100000000/1,receipt=100000000/1,conversation=100000000/1,call=100000000/1,signal=100000000/1,quality=100000000/1,connect=100000000/1",
        ABUSE_THRESHOLD: "100000",
        MAX_CONNECTIONS_PER_USER: "1000",
        LOG_LEVEL: process.env.FUZZ_LOG_LEVEL ?? "silent",
      },
    });
    const lanes = [
      ...Array.from({ length: SIO_CONNECTIONS }, (_, i) => new Lane(t, "sio", `fuzz-sio-${i}`)),
      ...Array.from({ length: WS_CONNECTIONS }, (_, i) => new Lane(t, "ws", `fuzz-ws-${i}`)),
    ];
    await Promise.all(lanes.map((lane) => lane.open()));

    const started = Date.now();
    let sent = 0;
    let read = 0;
    let batchNo = 0;
    const fatalKinds: Record<string, number> = {};
    while (sent < TOTAL_FRAMES) {
      const results = await Promise.all(
        lanes.map((lane, i) => {
          const sio = i < SIO_CONNECTIONS;
          const n = Math.max(0, Math.min(BATCH, TOTAL_FRAMES - sent));
          const frames = Array.from({ length: n }, () => (sio ? sioFrame(rng) : wsFrame(rng)));
          const fatal = sio && n > 0 && rng.chance(0.3) ? fatalSioFrame(rng) : undefined;
          if (fatal) fatalKinds[fatal.kind] = (fatalKinds[fatal.kind] ?? 0) + 1;
          sent += n + (fatal?.frames.length ?? 0);
          return lane.sendBatch(frames, batchNo++, fatal?.frames);
        }),
      );
      read += results.reduce((a, b) => a + b, 0);
      expect(Date.now() - started, `fuzzing took too long (seed ${seed})`).toBeLessThan(200_000); // a hang guard, not a speed target: the whole suite shares two cores
    }
    const total = (key: "reopened" | "stalls" | "unexpectedCloses" | "survivedFatal") => lanes.reduce((n, l) => n + l[key], 0);
    console.log(
      `[fuzz] ${sent} frames sent, ${read} provably read, in ${Date.now() - started} ms; fatal Socket.IO frames ${JSON.stringify(fatalKinds)}; ` +
        `reopened ${total("reopened")}, unexpected close codes ${JSON.stringify(unexpectedCloseCodes)}, stalled ${total("stalls")}, unexpected closes ${total("unexpectedCloses")}, survived fatal ${total("survivedFatal")}`,
    );
    expect(sent).toBeGreaterThanOrEqual(TOTAL_FRAMES);
    // Well-framed frames, however hostile their content, never stall or close a connection;
    // frames the Socket.IO parser refuses close exactly that connection.
    expect({ stalls: total("stalls"), unexpectedCloses: total("unexpectedCloses"), survivedFatal: total("survivedFatal") }, `seed ${seed}`).toEqual({ stalls: 0, unexpectedCloses: 0, survivedFatal: 0 });
    expect(read, `seed ${seed}`).toBe(sent);

    const health = await fetch(`${t.url}/healthz`);
    expect(health.status, `seed ${seed}`).toBe(200);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    const internal = metrics.split("\n").filter((line) => line.startsWith("switchboard_ack_errors_total") && line.includes('code="internal"'));
    expect(internal.map((line) => Number(line.split(" ").pop())).reduce((a, b) => a + b, 0), `internal errors (seed ${seed}): ${internal.join("; ")}`).toBe(0);
    const { socket } = await t.connect({ sub: "normal", tenant: "acme" });
    expect(await request(socket, "room:join", { room: "topic:after-fuzz" })).toEqual({ ok: true, data: { room: "topic:after-fuzz" } });
  });
});
