import { createHmac } from "node:crypto";
import { createServer as createHttpServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { collect, nextEvent, onCleanup, request, sleep, startServer } from "./support/server-harness.js";

type Ack = { ok: boolean; data?: any; error?: { code: string; message: string } };

describe("automatic and built-in channels", () => {
  it("a connection is in its user, tenant and role channels without asking", async () => {
    const { connect } = await startServer();
    const { socket } = await connect({ sub: "alice", tenant: "acme", roles: ["provider", "admin"] });
    for (const room of ["user:alice", "tenant:acme", "role:provider", "role:admin"]) {
      const ack = await request<Ack>(socket, "room:participants", { room });
      expect(ack, room).toEqual({ ok: true, data: { participants: [{ userId: "alice", name: "alice" }] } });
    }
  });

  it("joining one's own user room is allowed and another user's is forbidden", async () => {
    const { connect } = await startServer();
    const { socket } = await connect({ sub: "alice", tenant: "acme" });
    expect(await request<Ack>(socket, "room:join", { room: "user:alice" })).toEqual({ ok: true, data: { room: "user:alice" } });
    const denied = await request<Ack>(socket, "room:join", { room: "user:bob" });
    expect(denied.ok).toBe(false);
    expect(denied.error?.code).toBe("forbidden");
  });

  it("another tenant's tenant room, a role the user lacks, and unowned conversation/call rooms are forbidden", async () => {
    const { connect } = await startServer();
    const { socket } = await connect({ sub: "alice", tenant: "acme", roles: ["patient"] });
    for (const room of ["tenant:globex", "role:admin", "conversation:c1", "call:k1"]) {
      expect((await request<Ack>(socket, "room:join", { room })).error?.code, room).toBe("forbidden");
    }
    expect((await request<Ack>(socket, "room:join", { room: "tenant:acme" })).ok).toBe(true);
    expect((await request<Ack>(socket, "room:join", { room: "role:patient" })).ok).toBe(true);
  });

  it("any user of the tenant may join a topic room", async () => {
    const { connect } = await startServer();
    const { socket } = await connect({ sub: "alice", tenant: "acme" });
    expect(await request<Ack>(socket, "room:join", { room: "topic:wellness" })).toEqual({ ok: true, data: { room: "topic:wellness" } });
  });

  it("automatic channels cannot be left", async () => {
    const { connect } = await startServer();
    const { socket } = await connect({ sub: "alice", tenant: "acme" });
    expect((await request<Ack>(socket, "room:leave", { room: "user:alice" })).error?.code).toBe("forbidden");
  });
});

describe("app-defined channels", () => {
  it("an unknown kind is denied when no hook is configured", async () => {
    const { connect } = await startServer();
    const { socket } = await connect({ sub: "alice", tenant: "acme", roles: ["provider"] });
    const ack = await request<Ack>(socket, "room:join", { room: "patient:42" });
    expect(ack.error?.code).toBe("forbidden");
  });

  it("a library hook decides: allowed, denied, passed on, or thrown", async () => {
    const { connect } = await startServer({
      hooks: [
        { onAuthorizeChannel: ({ kind }) => (kind === "ward" ? undefined : kind === "broken" ? Promise.reject(new Error("boom")) : undefined) },
        { onAuthorizeChannel: ({ caller, kind, id }) => (kind === "patient" ? caller.roles.includes("provider") && id !== "7" : undefined) },
      ],
    });
    const provider = await connect({ sub: "dr", tenant: "acme", roles: ["provider"] });
    const patient = await connect({ sub: "pat", tenant: "acme", roles: ["patient"] });
    expect((await request<Ack>(provider.socket, "room:join", { room: "patient:42" })).ok).toBe(true);
    expect((await request<Ack>(provider.socket, "room:join", { room: "patient:7" })).error?.code).toBe("forbidden");
    expect((await request<Ack>(patient.socket, "room:join", { room: "patient:42" })).error?.code).toBe("forbidden");
    expect((await request<Ack>(provider.socket, "room:join", { room: "ward:3" })).error?.code).toBe("forbidden");
    expect((await request<Ack>(provider.socket, "room:join", { room: "broken:1" })).error?.code).toBe("forbidden");
  });

  it("the webhook hook asks the app backend with a signed body and follows its answer", async () => {
    const seen: { body: any; signature: string | undefined }[] = [];
    const backend = createHttpServer(async (req: IncomingMessage, res) => {
      let raw = "";
      for await (const chunk of req) raw += chunk;
      const body = JSON.parse(raw);
      seen.push({ body, signature: req.headers["x-switchboard-signature"] as string | undefined });
      if (body.channel === "visit:500") {
        res.statusCode = 500;
        return res.end();
      }
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ allow: body.channel === "visit:1" && body.roles.includes("provider") }));
    });
    await new Promise<void>((resolve) => backend.listen(0, "127.0.0.1", resolve));
    onCleanup(() => new Promise((resolve) => backend.close(() => resolve())));
    const hookUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}/authorize`;
    const hookSecret = "hook-secret-0123456789abcdef";
    const { connect } = await startServer({ env: { CHANNEL_AUTH_URL: hookUrl, CHANNEL_AUTH_SECRET: hookSecret } });
    const { socket } = await connect({ sub: "dr", tenant: "acme", roles: ["provider"], name: "Dr Who" });

    expect((await request<Ack>(socket, "room:join", { room: "visit:1" })).ok).toBe(true);
    expect((await request<Ack>(socket, "room:join", { room: "visit:2" })).error?.code).toBe("forbidden");
    expect((await request<Ack>(socket, "room:join", { room: "visit:500" })).error?.code).toBe("unavailable");
    expect(seen[0]!.body).toEqual({ tenantId: "acme", userId: "dr", name: "Dr Who", roles: ["provider"], channel: "visit:1" });
    const expected = `sha256=${createHmac("sha256", hookSecret).update(JSON.stringify(seen[0]!.body)).digest("hex")}`;
    expect(seen[0]!.signature).toBe(expected);
    // Built-in kinds never reach the webhook.
    await request<Ack>(socket, "room:join", { room: "topic:x" });
    expect(seen.map((s) => s.body.channel)).toEqual(["visit:1", "visit:2", "visit:500"]);
  });

  it("a redirecting webhook is not followed: the join is refused and the other host hears nothing", async () => {
    let elsewhere = 0;
    const other = createHttpServer((_req, res) => {
      elsewhere++;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ allow: true }));
    });
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    onCleanup(() => new Promise((resolve) => other.close(() => resolve())));
    const target = `http://127.0.0.1:${(other.address() as AddressInfo).port}/allow-all`;
    const redirecting = createHttpServer((req, res) => {
      res.statusCode = req.url === "/302" ? 302 : 307;
      res.setHeader("location", target);
      res.end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, "127.0.0.1", resolve));
    onCleanup(() => new Promise((resolve) => redirecting.close(() => resolve())));
    for (const path of ["/302", "/307"]) {
      const { connect } = await startServer({ env: { CHANNEL_AUTH_URL: `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}${path}`, CHANNEL_AUTH_SECRET: "hook-secret-0123456789abcdef" } });
      const { socket } = await connect({ sub: "dr", tenant: "acme" });
      expect((await request<Ack>(socket, "room:join", { room: "patient:1" })).error?.code).toBe("forbidden");
    }
    expect(elsewhere).toBe(0);
  });

  it("an unreachable webhook answers unavailable", async () => {
    const { connect } = await startServer({ env: { CHANNEL_AUTH_URL: "http://127.0.0.1:9/authorize", CHANNEL_AUTH_TIMEOUT_MS: "500" } });
    const { socket } = await connect({ sub: "dr", tenant: "acme" });
    expect((await request<Ack>(socket, "room:join", { room: "visit:1" })).error?.code).toBe("unavailable");
  });
});

describe("membership events and tenant isolation", () => {
  it("members see room:userJoined and room:userLeft; a second device of the same user is not announced", async () => {
    const { connect } = await startServer();
    const alice = await connect({ sub: "alice", tenant: "acme", name: "Alice" });
    await request(alice.socket, "room:join", { room: "topic:news" });
    const joins = collect(alice.socket, "room:userJoined");
    const bob1 = await connect({ sub: "bob", tenant: "acme", name: "Bob" });
    const joined = nextEvent(alice.socket, "room:userJoined");
    await request(bob1.socket, "room:join", { room: "topic:news" });
    expect(await joined).toEqual({ room: "topic:news", userId: "bob", name: "Bob" });

    const bob2 = await connect({ sub: "bob", tenant: "acme", name: "Bob" });
    await request(bob2.socket, "room:join", { room: "topic:news" });
    const participants = await request<Ack>(alice.socket, "room:participants", { room: "topic:news" });
    expect(participants.data.participants).toEqual([
      { userId: "alice", name: "Alice" },
      { userId: "bob", name: "Bob" },
    ]);

    const lefts = collect(alice.socket, "room:userLeft");
    await request(bob1.socket, "room:leave", { room: "topic:news" });
    await sleep(100);
    expect(lefts).toEqual([]);
    bob2.socket.disconnect();
    await sleep(200);
    expect(lefts).toEqual([{ room: "topic:news", userId: "bob", name: "Bob" }]);
    expect(joins).toHaveLength(1);
  });

  it("joins and leaves are announced only while the room has at most ROOM_ANNOUNCE_MAX_MEMBERS users", async () => {
    const { connect } = await startServer({ env: { ROOM_ANNOUNCE_MAX_MEMBERS: "2" } });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    await request(alice.socket, "room:join", { room: "topic:big" });
    const joins = collect(alice.socket, "room:userJoined");
    const lefts = collect(alice.socket, "room:userLeft");
    const bob = await connect({ sub: "bob", tenant: "acme" });
    await request(bob.socket, "room:join", { room: "topic:big" });
    const carol = await connect({ sub: "carol", tenant: "acme" });
    await request(carol.socket, "room:join", { room: "topic:big" });
    const dave = await connect({ sub: "dave", tenant: "acme" });
    await request(dave.socket, "room:join", { room: "topic:big" });
    // Four users: leaving a room of four (then three) is not announced; leaving a room of two is.
    await request(dave.socket, "room:leave", { room: "topic:big" });
    await request(carol.socket, "room:leave", { room: "topic:big" });
    await request(bob.socket, "room:leave", { room: "topic:big" });
    await sleep(200);
    expect(joins.map((e: any) => e.userId)).toEqual(["bob"]);
    expect(lefts.map((e: any) => e.userId)).toEqual(["bob"]);
    // The member list is complete whatever the size.
    const again = await connect({ sub: "erin", tenant: "acme" });
    await request(again.socket, "room:join", { room: "topic:big" });
    const participants = await request<Ack>(alice.socket, "room:participants", { room: "topic:big" });
    expect(participants.data.participants.map((p: any) => p.userId)).toEqual(["alice", "erin"]);
  });

  it("the same channel name in two tenants is two channels", async () => {
    const { connect } = await startServer();
    const acme = await connect({ sub: "alice", tenant: "acme" });
    const globex = await connect({ sub: "gina", tenant: "globex" });
    await request(acme.socket, "room:join", { room: "topic:news" });
    await request(globex.socket, "room:join", { room: "topic:news" });
    const leaked = collect(globex.socket, "room:userJoined");
    const acmeJoined = nextEvent(acme.socket, "room:userJoined");
    const acme2 = await connect({ sub: "andy", tenant: "acme" });
    await request(acme2.socket, "room:join", { room: "topic:news" });
    await acmeJoined;
    await sleep(100);
    expect(leaked).toEqual([]);
    const seenByGlobex = await request<Ack>(globex.socket, "room:participants", { room: "topic:news" });
    expect(seenByGlobex.data.participants).toEqual([{ userId: "gina", name: "gina" }]);
    // The same user id in another tenant is another user.
    const twin = await connect({ sub: "alice", tenant: "globex" });
    expect((await request<Ack>(twin.socket, "room:participants", { room: "user:alice" })).data.participants).toHaveLength(1);
  });
});
