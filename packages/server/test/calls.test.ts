import { describe, expect, it } from "vitest";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collect, databaseEnv, nextEvent, request, sleep, startServer, testDb } from "./support/server-harness.js";
import { createGroup, fails, ok } from "./support/chat-helpers.js";

const fast = { CALL_RING_TIMEOUT_MS: "600", CALL_GRACE_MS: "400" };

describe("call signaling", () => {
  it("caller and callee exchange offer, answer and ICE; the callee's second device stops ringing on accept", async () => {
    const { connect } = await startServer({ env: fast });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob1 = await connect({ sub: "bob", tenant: "acme" });
    const bob2 = await connect({ sub: "bob", tenant: "acme" });
    const ring1 = nextEvent<any>(bob1.socket, "call:incoming");
    const ring2 = nextEvent<any>(bob2.socket, "call:incoming");
    const { call } = await ok(alice.socket, "call:initiate", { calleeIds: ["bob"], media: "video" });
    expect(call).toMatchObject({ callerId: "alice", calleeIds: ["bob"], media: "video", state: "ringing" });
    expect((await ring1).call.id).toBe(call.id);
    expect((await ring2).call.id).toBe(call.id);

    const acceptedAtAlice = nextEvent<any>(alice.socket, "call:accepted");
    const stopRinging = nextEvent<any>(bob2.socket, "call:accepted");
    const accepted = await ok(bob1.socket, "call:accept", { callId: call.id });
    expect(accepted.call.state).toBe("active");
    expect(await acceptedAtAlice).toEqual({ callId: call.id, userId: "bob" });
    expect(await stopRinging).toEqual({ callId: call.id, userId: "bob" });
    expect(await fails(bob2.socket, "call:accept", { callId: call.id })).toBe("conflict");

    const offer = nextEvent<any>(bob1.socket, "call:signal");
    await ok(alice.socket, "call:signal", { callId: call.id, to: "bob", signal: { type: "offer", sdp: "v=0 offer" } });
    expect(await offer).toEqual({ callId: call.id, from: "alice", signal: { type: "offer", sdp: "v=0 offer" } });
    const answer = nextEvent<any>(alice.socket, "call:signal");
    await ok(bob1.socket, "call:signal", { callId: call.id, to: "alice", signal: { type: "answer", sdp: "v=0 answer" } });
    expect((await answer).signal.type).toBe("answer");
    const ice = nextEvent<any>(bob1.socket, "call:signal");
    const candidate = { candidate: "candidate:1 1 udp 2122260223 10.0.0.1 54400 typ host", sdpMid: "0", sdpMLineIndex: 0 };
    await ok(alice.socket, "call:signal", { callId: call.id, to: "bob", signal: { type: "ice", candidate } });
    expect((await ice).signal.candidate).toEqual(candidate);

    const ended = nextEvent<any>(bob1.socket, "call:ended");
    await ok(alice.socket, "call:end", { callId: call.id });
    const end = await ended;
    expect(end).toMatchObject({ callId: call.id, reason: "ended" });
    expect(end.durationMs).toBeGreaterThanOrEqual(0);
    expect(await fails(bob1.socket, "call:accept", { callId: call.id })).toBe("conflict");
  });

  it("a rejected call is reported to the caller and ends", async () => {
    const { connect } = await startServer({ env: fast });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const incoming = nextEvent<any>(bob.socket, "call:incoming");
    const { call } = await ok(alice.socket, "call:initiate", { calleeIds: ["bob"], media: "audio" });
    await incoming;
    const rejected = nextEvent<any>(alice.socket, "call:rejected");
    const ended = nextEvent<any>(alice.socket, "call:ended");
    await ok(bob.socket, "call:reject", { callId: call.id, reason: "with a patient" });
    expect(await rejected).toEqual({ callId: call.id, userId: "bob", reason: "with a patient" });
    expect(await ended).toEqual({ callId: call.id, reason: "rejected", durationMs: 0 });
  });

  it("one hang-up serves every state: a ringing callee's call:end declines (a group call goes on), the caller's call:reject hangs up", async () => {
    const { connect } = await startServer({ env: { CALL_RING_TIMEOUT_MS: "5000" } });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const carol = await connect({ sub: "carol", tenant: "acme" });
    const { call } = await ok(alice.socket, "call:initiate", { calleeIds: ["bob", "carol"], media: "audio" });
    const rejected = nextEvent<any>(alice.socket, "call:rejected");
    const ended = collect<any>(alice.socket, "call:ended");
    await ok(bob.socket, "call:end", { callId: call.id });
    expect(await rejected).toEqual({ callId: call.id, userId: "bob", reason: "rejected" });
    await sleep(100);
    expect(ended).toEqual([]);
    // Bob is out of the call now: hanging up again, or accepting, is a conflict.
    expect(await fails(bob.socket, "call:end", { callId: call.id })).toBe("conflict");
    expect(await fails(bob.socket, "call:accept", { callId: call.id })).toBe("conflict");

    const cancelled = nextEvent<any>(carol.socket, "call:ended");
    await ok(alice.socket, "call:reject", { callId: call.id });
    expect(await cancelled).toMatchObject({ callId: call.id, reason: "cancelled" });
  });

  it("an unanswered call times out: callees get call:missed, the caller call:ended with reason timeout", async () => {
    const { connect } = await startServer({ env: fast });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const { call } = await ok(alice.socket, "call:initiate", { calleeIds: ["bob"], media: "audio" });
    const missed = nextEvent<any>(bob.socket, "call:missed", 3000);
    const ended = nextEvent<any>(alice.socket, "call:ended", 3000);
    expect((await missed).callId).toBe(call.id);
    expect(await ended).toEqual({ callId: call.id, reason: "timeout", durationMs: 0 });
  });

  it("a callee already in a call answers busy automatically", async () => {
    const { connect } = await startServer({ env: fast });
    const carol = await connect({ sub: "carol", tenant: "acme" });
    const dave = await connect({ sub: "dave", tenant: "acme" });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const first = await ok(carol.socket, "call:initiate", { calleeIds: ["dave"], media: "audio" });
    await ok(dave.socket, "call:accept", { callId: first.call.id });
    const ringing = collect(carol.socket, "call:incoming");
    const carolEnded = collect<any>(carol.socket, "call:ended");
    const busy = nextEvent<any>(alice.socket, "call:rejected");
    const ended = nextEvent<any>(alice.socket, "call:ended");
    const { call } = await ok(alice.socket, "call:initiate", { calleeIds: ["carol"], media: "audio" });
    expect(await busy).toEqual({ callId: call.id, userId: "carol", reason: "busy" });
    expect((await ended).reason).toBe("busy");
    expect(call.state).toBe("ended");
    await sleep(100);
    expect(ringing).toEqual([]);
    // Carol never heard of Alice's call, so she is not told it ended (her client could take it for her own call).
    expect(carolEnded).toEqual([]);
    expect(await fails(carol.socket, "call:initiate", { calleeIds: ["alice"], media: "audio" })).toBe("conflict");
  });

  it("only participants signal, only to participants; refused signals are not forwarded", async () => {
    const { connect } = await startServer({ env: fast });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const mallory = await connect({ sub: "mallory", tenant: "acme" });
    const other = await connect({ sub: "alice", tenant: "globex" });
    const { call } = await ok(alice.socket, "call:initiate", { calleeIds: ["bob"], media: "audio" });
    await ok(bob.socket, "call:accept", { callId: call.id });
    const atBob = collect(bob.socket, "call:signal");
    const atMallory = collect(mallory.socket, "call:signal");
    expect(await fails(mallory.socket, "call:signal", { callId: call.id, to: "bob", signal: { type: "offer", sdp: "x" } })).toBe("forbidden");
    expect(await fails(alice.socket, "call:signal", { callId: call.id, to: "mallory", signal: { type: "offer", sdp: "x" } })).toBe("forbidden");
    expect(await fails(other.socket, "call:signal", { callId: call.id, to: "bob", signal: { type: "offer", sdp: "x" } })).toBe("not_found");
    expect(await fails(alice.socket, "call:signal", { callId: call.id, to: "bob", signal: { type: "bogus" } })).toBe("bad_request");
    for (const signal of [
      { type: "offer" },
      { type: "ice" },
      { type: "ice", candidate: { candidate: "c".repeat(100_000) } },
      { type: "ice", candidate: { candidate: "c", sdpMid: { nested: { deep: true } } } },
    ]) {
      expect(await fails(alice.socket, "call:signal", { callId: call.id, to: "bob", signal }), JSON.stringify(signal).slice(0, 80)).toBe("bad_request");
    }
    expect(await fails(mallory.socket, "call:end", { callId: call.id })).toBe("forbidden");
    await sleep(100);
    expect(atBob).toEqual([]);
    expect(atMallory).toEqual([]);
  });

  it("a participant disconnected beyond the grace period ends the call; a quick reconnect keeps it", async () => {
    const { connect } = await startServer({ env: { ...fast, CALL_GRACE_MS: "500", CALL_RING_TIMEOUT_MS: "10000" } });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const { call } = await ok(alice.socket, "call:initiate", { calleeIds: ["bob"], media: "audio" });
    await ok(bob.socket, "call:accept", { callId: call.id });

    const endings = collect<any>(alice.socket, "call:ended");
    bob.socket.disconnect();
    await sleep(150);
    const back = await connect({ sub: "bob", tenant: "acme" });
    await sleep(700);
    expect(endings).toEqual([]);
    await ok(back.socket, "call:signal", { callId: call.id, to: "alice", signal: { type: "ice", candidate: "c" } });

    const ended = nextEvent<any>(alice.socket, "call:ended", 3000);
    back.socket.disconnect();
    expect(await ended).toMatchObject({ callId: call.id, reason: "disconnected" });
  });

  it("quality samples past the thresholds raise call:qualityIssue to participants and feed the stored summary", async () => {
    const { connect, url, token } = await startServer({ env: fast });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const { call } = await ok(alice.socket, "call:initiate", { calleeIds: ["bob"], media: "video" });
    await ok(bob.socket, "call:accept", { callId: call.id });
    const issues = collect<any>(alice.socket, "call:qualityIssue");
    await ok(bob.socket, "call:quality", { callId: call.id, rttMs: 120, jitterMs: 10, packetLossPct: 0.5, bitrateKbps: 900 });
    await ok(bob.socket, "call:quality", { callId: call.id, rttMs: 650, jitterMs: 12, packetLossPct: 9, bitrateKbps: 300 });
    await sleep(150);
    expect(issues).toEqual([
      { callId: call.id, userId: "bob", metric: "rttMs", value: 650 },
      { callId: call.id, userId: "bob", metric: "packetLossPct", value: 9 },
    ]);
    expect(await fails(bob.socket, "call:quality", { callId: call.id, rttMs: -1, jitterMs: 0, packetLossPct: 0, bitrateKbps: 0 })).toBe("bad_request");
    await ok(alice.socket, "call:end", { callId: call.id });

    const res = await fetch(`${url}/v1/calls`, { headers: { authorization: `Bearer ${await token({ sub: "bob", tenant: "acme" })}` } });
    const { calls } = (await res.json()) as any;
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ id: call.id, state: "ended", endReason: "ended", callerId: "alice" });
    expect(calls[0].durationMs).toBeGreaterThanOrEqual(0);
    expect(calls[0].participants).toEqual([
      { userId: "alice", role: "caller", status: "left" },
      { userId: "bob", role: "callee", status: "left" },
    ]);
    expect(calls[0].quality).toEqual({
      samples: 2,
      rttMs: { avg: 385, max: 650 },
      jitterMs: { avg: 11, max: 12 },
      packetLossPct: { avg: 4.75, max: 9 },
      bitrateKbps: { avg: 600, min: 300 },
    });
  });

  it("a call tied to a conversation needs everyone to be a participant of it; one that does not exist in the tenant is not_found", async () => {
    const { connect } = await startServer({ env: fast });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    const erin = await connect({ sub: "erin", tenant: "acme" });
    expect(await fails(erin.socket, "call:initiate", { calleeIds: ["bob"], media: "audio", conversationId: id })).toBe("forbidden");
    expect(await fails(alice.socket, "call:initiate", { calleeIds: ["erin"], media: "audio", conversationId: id })).toBe("forbidden");
    expect(await fails(alice.socket, "call:initiate", { calleeIds: ["bob"], media: "audio", conversationId: "00000000-0000-4000-8000-000000000000" })).toBe("not_found");
    const globex = await connect({ sub: "alice", tenant: "globex" });
    expect(await fails(globex.socket, "call:initiate", { calleeIds: ["bob"], media: "audio", conversationId: id })).toBe("not_found");
    expect((await ok(alice.socket, "call:initiate", { calleeIds: ["bob"], media: "audio", conversationId: id })).call.conversationId).toBe(id);
  });

  it("a call whose ringing timer was lost (its node died) is timed out by the sweeper of any node", async () => {
    const { connect, server } = await startServer({ env: { CALL_SWEEP_INTERVAL_MS: "200" } });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const id = "11111111-1111-4111-8111-111111111111";
    // As a crashed node would leave it: a ringing call past its deadline, no timer anywhere.
    await server.database.query(
      "insert into calls (id, tenant_id, caller_id, media, state, created_at, ring_deadline) values ($1, 'acme', 'alice', 'audio', 'ringing', now(), now() - interval '1 second')",
      [id],
    );
    await server.database.query("insert into call_participants values ($1, 'acme', 'alice', 'caller', 'joined'), ($1, 'acme', 'bob', 'callee', 'ringing')", [id]);
    const missed = nextEvent<any>(bob.socket, "call:missed", 3000);
    const ended = nextEvent<any>(alice.socket, "call:ended", 3000);
    expect((await missed).callId).toBe(id);
    expect(await ended).toEqual({ callId: id, reason: "timeout", durationMs: 0 });
  });
});

describe("call state across devices and nodes", () => {
  it("one user never joins two calls: of two devices accepting two calls at once, or starting two at once, one wins", async () => {
    const { connect } = await startServer({ env: { CALL_RING_TIMEOUT_MS: "5000" } });
    const carol = await connect({ sub: "carol", tenant: "acme" });
    const dave = await connect({ sub: "dave", tenant: "acme" });
    const bob1 = await connect({ sub: "bob", tenant: "acme" });
    const bob2 = await connect({ sub: "bob", tenant: "acme" });
    const first = (await ok(carol.socket, "call:initiate", { calleeIds: ["bob"], media: "audio" })).call.id;
    const second = (await ok(dave.socket, "call:initiate", { calleeIds: ["bob"], media: "audio" })).call.id;
    const accepts = await Promise.all([request<any>(bob1.socket, "call:accept", { callId: first }), request<any>(bob2.socket, "call:accept", { callId: second })]);
    expect(accepts.filter((a) => a.ok)).toHaveLength(1);
    expect(accepts.find((a) => !a.ok).error).toMatchObject({ code: "conflict", message: "already in another call" });
    // The device that lost, accepting the call the other device joined: not "in another call".
    const won = accepts[0].ok ? first : second;
    expect((await request<any>(accepts[0].ok ? bob2.socket : bob1.socket, "call:accept", { callId: won })).error.message).toMatch(/not ringing/);

    const alice1 = await connect({ sub: "alice", tenant: "acme" });
    const alice2 = await connect({ sub: "alice", tenant: "acme" });
    await connect({ sub: "eve", tenant: "acme" });
    await connect({ sub: "frank", tenant: "acme" });
    const starts = await Promise.all([
      request<any>(alice1.socket, "call:initiate", { calleeIds: ["eve"], media: "audio" }),
      request<any>(alice2.socket, "call:initiate", { calleeIds: ["frank"], media: "audio" }),
    ]);
    expect(starts.filter((a) => a.ok)).toHaveLength(1);
    expect(starts.find((a) => !a.ok).error).toMatchObject({ code: "conflict", message: "already in a call" });
  });

  it("an active call whose participant is connected nowhere (their node died with its grace timer) is ended by the sweeper; a connected pair keeps theirs", async () => {
    const { connect, server } = await startServer({ env: { CALL_SWEEP_INTERVAL_MS: "200", CALL_GRACE_MS: "400" } });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const carol = await connect({ sub: "carol", tenant: "acme" });
    const kept = (await ok(bob.socket, "call:initiate", { calleeIds: ["carol"], media: "audio" })).call.id;
    await ok(carol.socket, "call:accept", { callId: kept });
    const keptEnded = collect<any>(bob.socket, "call:ended");
    const id = "22222222-2222-4222-8222-222222222222";
    // As a crashed node leaves it: an answered call whose callee's device was there, with no grace timer anywhere.
    await server.database.query(
      "insert into calls (id, tenant_id, caller_id, media, state, created_at, started_at, ring_deadline) values ($1, 'acme', 'alice', 'audio', 'active', now(), now(), now())",
      [id],
    );
    await server.database.query("insert into call_participants values ($1, 'acme', 'alice', 'caller', 'joined'), ($1, 'acme', 'ghost', 'callee', 'joined')", [id]);
    const started = Date.now();
    const ended = await nextEvent<any>(alice.socket, "call:ended", 5000);
    expect(ended).toMatchObject({ callId: id, reason: "disconnected" });
    // Not before the grace: the participant might have come back meanwhile.
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    // Alice can call again; the connected pair's call goes on.
    await ok(alice.socket, "call:initiate", { calleeIds: ["bob"], media: "audio" });
    await sleep(700);
    expect(keptEnded.filter((e) => e.callId === kept)).toEqual([]);
  });
});

describe("call history", () => {
  it("GET /v1/calls pages with before and beforeId lose none of several calls started in the same millisecond", async () => {
    const { connect, server, url, token } = await startServer({ env: { CALL_RING_TIMEOUT_MS: "5000" } });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    await connect({ sub: "bob", tenant: "acme" });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { call } = await ok(alice.socket, "call:initiate", { calleeIds: ["bob"], media: "audio" });
      ids.push(call.id);
      await ok(alice.socket, "call:end", { callId: call.id });
    }
    await server.database.query("update calls set created_at = '2026-12-06T10:00:00.123Z'");
    const auth = { authorization: `Bearer ${await token({ sub: "alice", tenant: "acme" })}` };
    const seen: string[] = [];
    let cursor = "";
    for (let page = 0; page < 5; page++) {
      const { calls } = (await (await fetch(`${url}/v1/calls?limit=2${cursor}`, { headers: auth })).json()) as { calls: { id: string; createdAt: string }[] };
      seen.push(...calls.map((c) => c.id));
      if (calls.length < 2) break;
      const last = calls.at(-1)!;
      cursor = `&before=${encodeURIComponent(last.createdAt)}&beforeId=${last.id}`;
    }
    expect(seen.sort()).toEqual([...ids].sort());
    expect((await fetch(`${url}/v1/calls?beforeId=${ids[0]}`, { headers: auth })).status).toBe(400);
  });
});

describe("calls and the rest of Switchboard", () => {
  it("participants are in_call while the call is active and back online after it ends", async () => {
    const { connect } = await startServer({ env: fast });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const watcher = await connect({ sub: "carol", tenant: "acme" });
    const status = async () => ((await ok(watcher.socket, "presence:get", { userIds: ["alice", "bob"] })).presence as any[]).map((p) => p.status);
    const { call } = await ok(alice.socket, "call:initiate", { calleeIds: ["bob"], media: "audio" });
    expect(await status()).toEqual(["online", "online"]);
    await ok(bob.socket, "call:accept", { callId: call.id });
    expect(await status()).toEqual(["in_call", "in_call"]);
    await ok(alice.socket, "call:end", { callId: call.id });
    expect(await status()).toEqual(["online", "online"]);
  });

  it("participants of a call still active across a restart read in_call again; a call still ringing does not mark its caller", async () => {
    const env = testDb === "postgres" ? databaseEnv() : { DATA_DIR: await mkdtemp(join(tmpdir(), "switchboard-calls-")) };
    // A long grace and ring: the calls outlive the restart.
    const settings = { ...env, CALL_GRACE_MS: "60000", CALL_RING_TIMEOUT_MS: "60000", PRESENCE_OFFLINE_GRACE_MS: "0" };
    const first = await startServer({ env: settings });
    const alice = await first.connect({ sub: "alice", tenant: "acme" });
    const bob = await first.connect({ sub: "bob", tenant: "acme" });
    const dan = await first.connect({ sub: "dan", tenant: "acme" });
    const { call } = await ok(alice.socket, "call:initiate", { calleeIds: ["bob"], media: "audio" });
    await ok(bob.socket, "call:accept", { callId: call.id });
    await ok(dan.socket, "call:initiate", { calleeIds: ["erin"], media: "audio" });
    await first.server.stop();

    const second = await startServer({ env: settings });
    for (const sub of ["alice", "bob", "dan"]) await second.connect({ sub, tenant: "acme" });
    const watcher = await second.connect({ sub: "carol", tenant: "acme" });
    const presence = (await ok(watcher.socket, "presence:get", { userIds: ["alice", "bob", "dan"] })).presence as any[];
    expect(presence.map((p) => p.status)).toEqual(["in_call", "in_call", "online"]);
  });

  it("a missed call leaves a notification for the callee", async () => {
    const { connect } = await startServer({ env: fast });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const bob = await connect({ sub: "bob", tenant: "acme" });
    const notified = nextEvent<any>(bob.socket, "notification:new", 3000);
    const { call } = await ok(alice.socket, "call:initiate", { calleeIds: ["bob"], media: "video" });
    const { notification } = await notified;
    expect(notification).toMatchObject({ type: "call.missed", priority: "high", title: "Missed video call from alice", data: { callId: call.id, callerId: "alice" } });
  });
});
