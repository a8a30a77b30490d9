import { describe, expect, it } from "vitest";
import { connectError, request, sleep, startServer } from "./support/server-harness.js";
import { createGroup, ok } from "./support/chat-helpers.js";

const KEY = "acme-key-0123456789abcdef";

async function auditOf(url: string, token: string, query = "") {
  const res = await fetch(`${url}/v1/audit${query}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as any };
}

describe("audit log", () => {
  it("records connects, room joins, denied attempts, history reads and API key use, never message bodies", async () => {
    const { url, token, connect } = await startServer({ env: { API_KEYS: `acme:${KEY}` } });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    await ok(alice.socket, "room:join", { room: "topic:ward-3" });
    await request(alice.socket, "room:join", { room: "user:bob" });
    const id = await createGroup(alice.socket, ["bob"]);
    await ok(alice.socket, "message:send", { conversationId: id, body: "secret clinical detail" });
    await ok(alice.socket, "message:history", { conversationId: id });
    await fetch(`${url}/v1/presence?userIds=alice`, { headers: { authorization: `Bearer ${KEY}` } });
    await fetch(`${url}/v1/presence?userIds=alice`, { headers: { authorization: "Bearer wrong-key-0123456789abc" } });

    const admin = await token({ sub: "ada", tenant: "acme", roles: ["admin"] });
    const { status, body } = await auditOf(url, admin);
    expect(status).toBe(200);
    const rows = body.entries.map((e: any) => [e.actor, e.action, e.target ?? null, e.result, e.detail ?? null]);
    expect(rows).toContainEqual(["alice", "connect", alice.socket.id, "ok", null]);
    expect(rows).toContainEqual(["alice", "room:join", "topic:ward-3", "ok", null]);
    expect(rows).toContainEqual(["alice", "room:join", "user:bob", "denied", "forbidden"]);
    expect(rows).toContainEqual(["alice", "message:history", id, "ok", null]);
    expect(rows).toContainEqual(["api-key", "api_key.use", "GET /v1/presence", "ok", null]);
    expect(JSON.stringify(body)).not.toContain("secret clinical detail");
    expect(body.entries[0].nodeId).toBeTruthy();

    const denied = await auditOf(url, admin, "?result=denied&action=room:join");
    expect(denied.body.entries.map((e: any) => e.target)).toEqual(["user:bob"]);
  });

  it("counts an API key's repeated use within one batching window in a single entry, refusals one by one", async () => {
    const { url, token, server } = await startServer({ env: { API_KEYS: `acme:${KEY}` } });
    const publish = (key: string) =>
      fetch(`${url}/v1/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ channel: "tenant:acme", event: "tick", data: {} }),
      });
    const statuses = await Promise.all([...Array.from({ length: 5 }, () => publish(KEY)), publish("wrong-key-0123456789abc"), publish("wrong-key-0123456789abc")]);
    expect(statuses.map((r) => r.status)).toEqual([202, 202, 202, 202, 202, 401, 401]);
    const { body } = await auditOf(url, await token({ sub: "ada", tenant: "acme", roles: ["admin"] }), "?action=api_key.use");
    const uses = body.entries.filter((e: any) => e.target === "POST /v1/events").map((e: any) => [e.result, e.detail ?? null]);
    expect(uses).toEqual([["ok", "count=5"]]);
    const { rows } = await server.database.query<{ result: string }>("select result from audit_log where action = 'api_key.use' and tenant_id = '-'");
    expect(rows).toEqual([{ result: "denied" }, { result: "denied" }]);
  });

  it("only admins of the tenant read it, and only their tenant's entries", async () => {
    const { url, token, connect } = await startServer();
    await connect({ sub: "gina", tenant: "globex" });
    expect((await auditOf(url, await token({ sub: "alice", tenant: "acme" }))).status).toBe(403);
    const { body } = await auditOf(url, await token({ sub: "ada", tenant: "acme", roles: ["admin"] }));
    expect(body.entries.filter((e: any) => e.actor === "gina")).toEqual([]);
    expect((await auditOf(url, await token({ sub: "ada", tenant: "acme", roles: ["admin"] }), "?limit=5000")).status).toBe(400);
  });

  it("a refused handshake is recorded as a denied connect", async () => {
    const { url, server } = await startServer();
    await connectError(url, { auth: { token: "garbage" } });
    await sleep(700);
    const { rows } = await server.database.query<{ action: string; result: string; detail: string }>("select action, result, detail from audit_log where tenant_id = '-'");
    expect(rows).toEqual([{ action: "connect", result: "denied", detail: "token_invalid" }]);
  });
});

describe("audit log over HTTP", () => {
  it("REST requests are recorded as their socket requests: history reads, and every refusal, a refused token and /pusher/auth included", async () => {
    const { url, token, connect, server } = await startServer({ env: { PUSHER_APPS: "app1:key1:secret-one-123:acme" } });
    const alice = await connect({ sub: "alice", tenant: "acme" });
    const id = await createGroup(alice.socket, ["bob"]);
    const as = async (bearer: string, method: string, path: string, body?: unknown) => {
      const headers: Record<string, string> = { authorization: `Bearer ${bearer}` };
      if (body !== undefined) headers["content-type"] = "application/json";
      return (await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })).status;
    };
    const aliceToken = await token({ sub: "alice", tenant: "acme" });
    const eveToken = await token({ sub: "eve", tenant: "acme" });
    expect(await as(aliceToken, "GET", `/v1/conversations/${id}/messages`)).toBe(200);
    expect(await as(eveToken, "GET", `/v1/conversations/${id}/messages`)).toBe(403);
    expect(await as(eveToken, "POST", `/v1/conversations/${id}/messages`, { body: "let me in" })).toBe(403);
    expect(await as(eveToken, "GET", "/v1/audit")).toBe(403);
    expect(await as(eveToken, "POST", "/pusher/auth", { socket_id: "123.456", channel_name: "private-user.bob" })).toBe(403);
    expect(await as("not-a-token", "GET", "/v1/conversations")).toBe(401);
    // A successful request of a family that is not always audited leaves no entry.
    expect(await as(aliceToken, "GET", "/v1/conversations")).toBe(200);

    const { body } = await auditOf(url, await token({ sub: "ada", tenant: "acme", roles: ["admin"] }));
    const rows = body.entries.filter((e: any) => e.action !== "connect" && e.action !== "conversation:create").map((e: any) => [e.tenantId, e.actor, e.action, e.target ?? null, e.result, e.detail ?? null]);
    expect(rows).toEqual(
      expect.arrayContaining([
        ["acme", "alice", "message:history", id, "ok", null],
        ["acme", "eve", "message:history", id, "denied", "forbidden"],
        ["acme", "eve", "message:send", id, "denied", "forbidden"],
        ["acme", "eve", "audit:query", null, "denied", "forbidden"],
        ["acme", "eve", "pusher:auth", "private-user.bob", "denied", "forbidden"],
      ]),
    );
    expect(rows.some((row: unknown[]) => row[2] === "conversation:list")).toBe(false);
    // The refused token has no tenant: recorded under `-`, like a refused handshake, out of the tenant's reach.
    expect(rows.some((row: unknown[]) => row[0] === "-")).toBe(false);
    const { rows: untenanted } = await server.database.query("select actor, action, result, detail from audit_log where tenant_id = '-'");
    expect(untenanted).toEqual([{ actor: "-", action: "conversation:list", result: "denied", detail: "unauthorized" }]);
  });
});
