import { spawnSync } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import type { Socket } from "socket.io-client";
import { ok } from "./support/chat-helpers.js";
import { ChatFollower, sendMany } from "./support/chat-follower.js";
import { CLUSTER_API_KEY, connectTracked, startCluster, type Cluster } from "./support/cluster-harness.js";
import { freePortRun, runCli, startRedis, waitFor, waitForOutput, type RedisProcess } from "./support/node-processes.js";
import { nextEvent, request, sleep, TEST_SECRET, testDb } from "./support/server-harness.js";
import { hostPort, startTcpProxy, type TcpProxy } from "./support/tcp-proxy.js";

const databaseUrl = process.env.DATABASE_URL;
// Part of the Redis suite (CI fails without REDIS_URL, see vitest.config.ts). The nodes use a
// Redis of their own, started here, so it can be restarted; run once, in the Postgres project.
const enabled = Boolean(process.env.REDIS_URL && databaseUrl) && testDb === "postgres";

type Ack<T = any> = { ok: true; data: T } | { ok: false; error: { code: string } };

describe.runIf(enabled)("three node processes behind the balancer", () => {
  let redis: RedisProcess;
  let proxy: TcpProxy;
  let cluster: Cluster;
  let alice: Socket, bob: Socket, carol: Socket;

  beforeAll(async () => {
    redis = await startRedis();
    proxy = await startTcpProxy(hostPort(databaseUrl!));
    cluster = await startCluster({ nodes: 3, redisUrl: redis.url, databaseUrl: proxy.url(databaseUrl!), adminDatabaseUrl: databaseUrl! });
    const { sockets, nodeOf } = await connectTracked(cluster, ["alice", "bob", "carol"]);
    [alice, bob, carol] = sockets as [Socket, Socket, Socket];
    expect(new Set(nodeOf).size).toBe(3);
  }, 60_000);

  // A node a test killed or drained comes back for the next test, whatever that test's outcome.
  afterEach(async () => {
    for (const [i, node] of cluster.nodes.entries()) if (!node.alive) await cluster.restart(i);
  }, 30_000);

  afterAll(async () => {
    await cluster?.close();
    await proxy?.close();
    await redis?.close();
  }, 30_000);

  it("room broadcasts, chat, typing, notifications and call signaling reach clients on other nodes", async () => {
    for (const s of [alice, bob, carol]) await ok(s, "room:join", { room: "topic:lobby" });
    const broadcast = [alice, bob, carol].map((s) => nextEvent<any>(s, "lobby:news"));
    const res = await fetch(`${cluster.nodes[1]!.url}/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLUSTER_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ channel: "topic:lobby", event: "lobby:news", data: { id: 1 } }),
    });
    expect(res.status).toBeLessThan(300);
    expect(await Promise.all(broadcast)).toEqual([{ id: 1 }, { id: 1 }, { id: 1 }]);

    const announced = [bob, carol].map((s) => nextEvent<any>(s, "conversation:new"));
    const { conversation } = await ok(alice, "conversation:create", { type: "group", participantIds: ["bob", "carol"], title: "Care team" });
    for (const e of await Promise.all(announced)) expect(e.conversation.id).toBe(conversation.id);

    const chat = [bob, carol].map((s) => nextEvent<any>(s, "message:new"));
    await ok(alice, "message:send", { conversationId: conversation.id, body: "hello from node 1" });
    for (const e of await Promise.all(chat)) expect(e.message).toMatchObject({ seq: 1, body: "hello from node 1", senderId: "alice" });

    const typing = [alice, carol].map((s) => nextEvent<any>(s, "typing:start"));
    await ok(bob, "typing:start", { conversationId: conversation.id });
    for (const e of await Promise.all(typing)) expect(e).toMatchObject({ conversationId: conversation.id, userId: "bob" });

    const notified = nextEvent<any>(alice, "notification:new");
    const created = await fetch(`${cluster.nodes[2]!.url}/v1/notifications`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLUSTER_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ userIds: ["alice"], type: "lab", title: "Results ready", priority: "high" }),
    });
    expect(created.status).toBe(201);
    expect((await notified).notification).toMatchObject({ userId: "alice", title: "Results ready" });

    const incoming = nextEvent<any>(bob, "call:incoming");
    const { call } = await ok(alice, "call:initiate", { calleeIds: ["bob"], media: "video" });
    expect((await incoming).call.id).toBe(call.id);
    const accepted = nextEvent<any>(alice, "call:accepted");
    await ok(bob, "call:accept", { callId: call.id });
    expect(await accepted).toMatchObject({ callId: call.id, userId: "bob" });
    const signal = nextEvent<any>(bob, "call:signal");
    await ok(alice, "call:signal", { callId: call.id, to: "bob", signal: { type: "offer", sdp: "v=0" } });
    expect(await signal).toMatchObject({ callId: call.id, from: "alice", signal: { type: "offer", sdp: "v=0" } });
    const ended = nextEvent<any>(bob, "call:ended");
    await ok(alice, "call:end", { callId: call.id });
    expect(await ended).toMatchObject({ callId: call.id });
  });

  it("seq stays gapless with concurrent senders on three nodes, and every participant gets every message once", async () => {
    const { conversation } = await ok(alice, "conversation:create", { type: "group", participantIds: ["bob", "carol"], title: "Busy" });
    const followers = [alice, bob, carol].map((s) => new ChatFollower(s, conversation.id));
    const deadline = Date.now() + 15_000;
    const bySender = await Promise.all([alice, bob, carol].map((s, i) => sendMany(s, conversation.id, `n${i}`, 20, { pauseMs: 0, deadline })));
    expect(bySender.flat().map((m) => m.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    // Each participant gets the 40 messages of the other two live, once each (a sender's own connection gets its ack instead).
    await waitFor(() => followers.every((f) => f.liveCount.size === 40), 5000, () => `live counts ${followers.map((f) => f.liveCount.size)}, expected 40 each`);
    followers.forEach((f, i) => {
      expect([...f.liveCount.values()].every((n) => n === 1)).toBe(true);
      f.add(bySender[i]!);
      expect(f.contiguous).toBe(60);
    });
  });

  it("with Postgres cut, sends answer unavailable, nothing is broadcast, connections stay up, and service resumes when it is back", async () => {
    const { conversation } = await ok(alice, "conversation:create", { type: "group", participantIds: ["bob", "carol"], title: "Outage" });
    const followers = [bob, carol].map((s) => new ChatFollower(s, conversation.id));
    proxy.cut();
    try {
      for (const [s, i] of [[alice, 0], [bob, 1]] as const) {
        const ack = await request<Ack>(s, "message:send", { conversationId: conversation.id, body: `lost ${i}`, clientMessageId: `cut-${i}` });
        expect(ack).toMatchObject({ ok: false, error: { code: "unavailable" } });
      }
      await sleep(200);
      for (const f of followers) expect(f.messages.size).toBe(0);
      expect([alice, bob, carol].every((s) => s.connected)).toBe(true);
      expect(cluster.nodes.every((n) => n.alive)).toBe(true);
    } finally {
      proxy.restore();
    }
    const sent = await sendMany(alice, conversation.id, "back", 1, { pauseMs: 0, deadline: Date.now() + 15_000 });
    expect(sent[0]!.seq).toBe(1);
    await waitFor(() => followers.every((f) => f.messages.get(1)?.body === "back 0"), 5000, "the message after recovery did not cross nodes");
  });

  it("SIGKILL of a node: its clients reconnect to another node and every acked message arrives exactly once", { timeout: 40_000 }, async () => {
    const { victim, followers } = await trafficThrough(cluster, async (node) => {
      node.kill("SIGKILL");
      await node.exited;
    });
    // The sender and the follower of the killed node came back on the other nodes.
    expect(followers.frank.reconnects).toBeGreaterThanOrEqual(1);
    expect((await cluster.connectionsPerNode())[victim]).toBe(0);
  });

  it("SIGTERM drains a node: its clients get server:shutdown, move to the other nodes and miss nothing", { timeout: 40_000 }, async () => {
    const { victim, followers } = await trafficThrough(cluster, async (node) => {
      node.kill("SIGTERM");
      expect(await node.exited).toEqual({ code: 0, signal: null });
    });
    expect(followers.frank.shutdowns).toBe(1);
    expect(followers.frank.reconnects).toBeGreaterThanOrEqual(1);
    expect(followers.dave.shutdowns + followers.erin.shutdowns).toBe(0);
    expect((await cluster.connectionsPerNode())[victim]).toBe(0);
  });

  it("Redis restarted mid-traffic: nodes reconnect by themselves, clients get server:resync and no acked message is lost", { timeout: 40_000 }, async () => {
    const { victim, followers } = await trafficThrough(cluster, async () => {
      await redis.kill();
      await sleep(500);
      await redis.start();
    });
    for (const f of Object.values(followers)) expect(f.resyncs).toBeGreaterThanOrEqual(1);
    expect(cluster.nodes.every((n) => n.alive)).toBe(true);
    // Events cross nodes through Redis again: published on one node, received by a client on another.
    const frank = followers.frank.socket;
    await ok(frank, "room:join", { room: "topic:after" });
    const received = nextEvent<any>(frank, "after:restart");
    const res = await fetch(`${cluster.nodes.find((_, i) => i !== victim)!.url}/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLUSTER_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ channel: "topic:after", event: "after:restart", data: { ok: true } }),
    });
    expect(res.status).toBeLessThan(300);
    expect(await received).toEqual({ ok: true });
  });
});

describe.runIf(enabled)("switchboard start --cluster", () => {
  it("refuses to start without DATABASE_URL and REDIS_URL, naming both", async () => {
    const cli = runCli(["start", "--cluster", "2"], { PORT: "3000", DATA_DIR: ":memory:", REDIS_URL: process.env.REDIS_URL! });
    expect((await cli.exited).code).toBe(1);
    expect(cli.output).toMatch(/DATABASE_URL and REDIS_URL must both be set/);
  });

  it("starts N nodes behind a balancer on PORT, and SIGTERM stops them all", { timeout: 40_000 }, async () => {
    await withLaunchedCluster(async (cli, port) => {
      // Round robin: consecutive requests through the balancer reach both nodes.
      expect((await nodesBehind(port)).size).toBe(2);
      cli.kill("SIGTERM");
      expect((await cli.exited).code).toBe(0);
      // Both nodes are gone with it.
      for (const p of [port + 1, port + 2]) await expect(fetch(`http://127.0.0.1:${p}/healthz`)).rejects.toThrow();
    });
  });

  it("a node that dies is started again, and the balancer sends requests to it once it answers", { timeout: 60_000 }, async () => {
    await withLaunchedCluster(async (cli, port) => {
      const before = nodePids(cli);
      expect(before).toHaveLength(2);
      process.kill(before[0]!, "SIGKILL");
      await waitForOutput(cli, /node \d \(port \d+\) exited \(SIGKILL\); restarting it in 1 s/, 10_000);
      await waitFor(async () => (await nodesBehind(port)).size === 2 && nodePids(cli).length === 2 && !nodePids(cli).includes(before[0]!), 30_000, () => `the node was not back:\n${cli.output}`);
      cli.kill("SIGTERM");
      expect((await cli.exited).code).toBe(0);
      for (const p of [port + 1, port + 2]) await expect(fetch(`http://127.0.0.1:${p}/healthz`)).rejects.toThrow();
    });
  });
});

/** `start --cluster 2` on a free run of ports, its own schema and Redis prefix; `run` gets it once the banner is out. */
async function withLaunchedCluster(run: (cli: ReturnType<typeof runCli>, port: number) => Promise<void>): Promise<void> {
  const port = await freePortRun(3);
  const schema = `c_launch_${Date.now()}`;
  const cli = runCli(["start", "--cluster", "2"], {
    PORT: String(port),
    HOST: "127.0.0.1",
    JWT_SECRET: TEST_SECRET,
    DATABASE_URL: databaseUrl!,
    DATABASE_SCHEMA: schema,
    REDIS_URL: process.env.REDIS_URL!,
    REDIS_PREFIX: schema,
    LOG_LEVEL: "warn",
  });
  try {
    await waitForOutput(cli, /2 nodes \(ports \d+, \d+\) behind a round-robin balancer/, 30_000);
    await run(cli, port);
  } finally {
    cli.kill("SIGKILL");
    const admin = new pg.Client({ connectionString: databaseUrl! });
    await admin.connect();
    await admin.query(`drop schema if exists "${schema}" cascade`);
    await admin.end();
  }
}

/** The node ids four requests through the balancer on `port` reached (none when it does not answer). */
async function nodesBehind(port: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { connection: "close" } }).catch(() => undefined);
    if (res?.ok) seen.add(((await res.json()) as any).node);
  }
  return seen;
}

/** The launcher's node processes (its children). */
function nodePids(cli: ReturnType<typeof runCli>): number[] {
  const out = spawnSync("pgrep", ["-P", String(cli.child.pid)], { encoding: "utf8" }).stdout.trim();
  return out ? out.split("\n").map(Number) : [];
}

/** Clients of the traffic scenarios, closed after each test so later counts start clean. */
const trafficSockets: Socket[] = [];
afterEach(() => {
  for (const s of trafficSockets.splice(0)) s.disconnect();
});

/**
 * Three senders and three followers in one conversation, one of each per node;
 * `disrupt` runs mid-traffic with the node of the third sender and follower.
 * Afterwards every message is stored exactly once with gapless seqs, and every
 * follower holds all of them: live, or fetched by seq after reconnecting or
 * being told to resync.
 */
async function trafficThrough(cluster: Cluster, disrupt: (node: Cluster["nodes"][number]) => Promise<void>) {
  const users = ["sam", "sue", "sid", "dave", "erin", "frank"];
  const { sockets, nodeOf } = await connectTracked(cluster, users);
  expect(new Set(nodeOf.slice(0, 3)).size).toBe(3);
  expect(nodeOf.slice(3)).toEqual(nodeOf.slice(0, 3));
  const victim = nodeOf[5]!;
  const [sam, sue, sid, dave, erin, frank] = sockets as [Socket, Socket, Socket, Socket, Socket, Socket];
  const { conversation } = await ok(sam, "conversation:create", { type: "group", participantIds: users.slice(1), title: "Traffic" });
  const followers = { dave: new ChatFollower(dave, conversation.id), erin: new ChatFollower(erin, conversation.id), frank: new ChatFollower(frank, conversation.id) };
  const perSender = 40;
  const deadline = Date.now() + 25_000;
  // clientMessageIds are per sender, not per conversation: a fresh prefix per run.
  const run = conversation.id.slice(0, 8);
  const sending = Promise.all([sam, sue, sid].map((s, i) => sendMany(s, conversation.id, `${run}-s${i}`, perSender, { pauseMs: 20, deadline })));
  await sleep(400);
  await disrupt(cluster.nodes[victim]!);
  const acked = (await sending).flat();
  const total = 3 * perSender;

  // Stored exactly once each (retries reused their clientMessageId), seqs 1..total without a gap.
  const { messages } = await ok(sam, "message:history", { conversationId: conversation.id, afterSeq: 0, limit: 200 });
  expect(messages.map((m: any) => m.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  expect(new Set(messages.map((m: any) => m.clientMessageId)).size).toBe(total);
  expect(new Set(acked.map((m) => m.id))).toEqual(new Set(messages.map((m: any) => m.id)));

  for (const [name, f] of Object.entries(followers)) {
    await waitFor(() => f.contiguous === total, 10_000, () => `${name} holds ${f.messages.size}/${total} (contiguous ${f.contiguous}) after ${f.reconnects} reconnects, ${f.resyncs} resyncs`);
    expect(f.messages.size).toBe(total);
    // Live delivery never duplicates; what was missed live came from history, once.
    expect([...f.liveCount.values()].every((n) => n === 1), `${name} got a message twice live`).toBe(true);
  }
  expect(sockets.every((s) => s.connected)).toBe(true);
  trafficSockets.push(...sockets);
  return { victim, followers };
}
