import { createServer as createHttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, exportSPKI, SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { countUpgradeWrites } from "./support/socket-writes.js";
import { TEST_SECRET, connectError, nextEvent, onCleanup, startServer } from "./support/server-harness.js";

const secret = new TextEncoder().encode(TEST_SECRET);
const hs256 = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: "HS256" });

describe("handshake authentication", () => {
  it("a WebSocket connect takes two writes from the server: 101 and open packet, then CONNECT and connected together", async () => {
    const { server, connect } = await startServer();
    // On Postgres the setup reads the user's presence record: its `connected` is written turns after the CONNECT packet.
    await connect({ sub: "warm", tenant: "acme" });
    const writes = countUpgradeWrites(server.http.server);
    const { connected } = await connect({ sub: "alice", tenant: "acme" });
    expect(connected.userId).toBe("alice");
    expect(writes.single + writes.vectored).toBe(2);
  });

  it("a valid token connects and receives connected with the token's user and tenant", async () => {
    const { connect } = await startServer();
    const { socket, connected } = await connect({ sub: "alice", tenant: "acme", name: "Alice" });
    expect(connected).toMatchObject({ socketId: socket.id, userId: "alice", tenantId: "acme", recovered: false });
    expect(Date.parse(connected.serverTime)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("a token without a tenant claim lands in the default tenant", async () => {
    const { connect } = await startServer();
    const { connected } = await connect({ sub: "bob" });
    expect(connected.tenantId).toBe("default");
  });

  it("the token is accepted from an Authorization header and from ?token=", async () => {
    const { url, token, connect } = await startServer();
    const jwt = await token({ sub: "carol", tenant: "acme" });
    const viaHeader = await connect(jwt, { auth: {}, extraHeaders: { authorization: `Bearer ${jwt}` } });
    expect(viaHeader.connected.userId).toBe("carol");
    const viaQuery = await connect(jwt, { auth: {}, query: { token: jwt } });
    expect(viaQuery.connected.userId).toBe("carol");
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it.each([
    ["no token at all", "token_missing", undefined],
    ["an empty token", "token_missing", ""],
    ["a malformed token", "token_invalid", "not.a.jwt"],
  ])("%s is refused with %s", async (_name, code, token) => {
    const { url } = await startServer();
    const err = await connectError(url, { auth: token === undefined ? {} : { token } });
    expect(err.message).toBe("unauthorized");
    expect(err.data?.code).toBe(code);
  });

  it("the tenant '-' is refused: it names the audit trail's unattributed entries", async () => {
    const { url, token } = await startServer();
    const err = await connectError(url, { auth: { token: await token({ sub: "ada", tenant: "-", roles: ["admin"] }) } });
    expect(err.data?.code).toBe("token_invalid");
    // A tenant that merely contains dashes is fine.
    const ok = await connectError(url, { auth: { token: await token({ sub: "ada", tenant: "-a-" }) } }).catch(() => "connected");
    expect(ok).toBe("connected");
  });

  it("a token signed with another secret is refused as token_invalid", async () => {
    const { url } = await startServer();
    const token = await hs256({ sub: "mallory" }).setExpirationTime("1h").sign(new TextEncoder().encode("another-secret-0123456789abcdef"));
    const err = await connectError(url, { auth: { token } });
    expect(err.data?.code).toBe("token_invalid");
  });

  it("an HS256 token whose signature is another spelling of the right MAC is refused as token_invalid; the canonical one connects", async () => {
    const { url, connect } = await startServer();
    const token = await hs256({ sub: "alice" }).setExpirationTime("1h").sign(secret);
    const [header, payload, signature] = token.split(".");
    // 32 bytes take 43 base64url characters, the last with 2 unused bits: flipping one leaves the bytes as they were.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const respelled = `${signature!.slice(0, -1)}${alphabet[alphabet.indexOf(signature!.at(-1)!) ^ 1]}`;
    expect(Buffer.from(respelled, "base64url")).toEqual(Buffer.from(signature!, "base64url"));
    const err = await connectError(url, { auth: { token: `${header}.${payload}.${respelled}` } });
    expect(err.data?.code).toBe("token_invalid");
    expect((await connect(token)).connected.userId).toBe("alice");
  });

  it("an alg:none token is refused as token_invalid", async () => {
    const { url } = await startServer();
    const token = new UnsecuredJWT({ sub: "mallory", tenant: "acme" }).setExpirationTime("1h").encode();
    const err = await connectError(url, { auth: { token } });
    expect(err.data?.code).toBe("token_invalid");
  });

  it("an expired token is refused as token_expired", async () => {
    const { url } = await startServer();
    const token = await hs256({ sub: "alice" }).setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(secret);
    const err = await connectError(url, { auth: { token } });
    expect(err.data?.code).toBe("token_expired");
  });

  it("a token without exp is refused unless the server allows it", async () => {
    const token = await hs256({ sub: "alice" }).sign(secret);
    const strict = await startServer();
    expect((await connectError(strict.url, { auth: { token } })).data?.code).toBe("token_invalid");
    const lenient = await startServer({ env: { JWT_REQUIRE_EXP: "false" } });
    const { connected } = await lenient.connect(token);
    expect(connected.userId).toBe("alice");
  });

  it("a token without sub, or with an unusable tenant or roles claim, is refused", async () => {
    const { url } = await startServer();
    for (const claims of [{ tenant: "acme" }, { sub: "alice", tenant: "acme/evil" }, { sub: "alice", roles: "admin" }, { sub: "a b" }]) {
      const token = await hs256(claims).setExpirationTime("1h").sign(secret);
      expect((await connectError(url, { auth: { token } })).data?.code, JSON.stringify(claims)).toBe("token_invalid");
    }
  });

  it("issuer and audience are enforced when configured", async () => {
    const { url, connect } = await startServer({ env: { JWT_ISSUER: "https://auth.example", JWT_AUDIENCE: "switchboard" } });
    const good = await hs256({ sub: "alice" }).setIssuer("https://auth.example").setAudience("switchboard").setExpirationTime("1h").sign(secret);
    expect((await connect(good)).connected.userId).toBe("alice");
    const wrongIssuer = await hs256({ sub: "alice" }).setIssuer("https://evil.example").setAudience("switchboard").setExpirationTime("1h").sign(secret);
    expect((await connectError(url, { auth: { token: wrongIssuer } })).data?.code).toBe("token_invalid");
    const noAudience = await hs256({ sub: "alice" }).setIssuer("https://auth.example").setExpirationTime("1h").sign(secret);
    expect((await connectError(url, { auth: { token: noAudience } })).data?.code).toBe("token_invalid");
  });
});

describe("JWKS verification", () => {
  async function serveJwks() {
    const rsa = await generateKeyPair("RS256", { extractable: true });
    const ec = await generateKeyPair("ES256", { extractable: true });
    const keys = [
      { ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256", use: "sig" },
      { ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256", use: "sig" },
    ];
    const jwksServer = createHttpServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
    onCleanup(() => new Promise((resolve) => jwksServer.close(() => resolve())));
    const url = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
    return { url, rsa, ec };
  }

  it("RS256 and ES256 tokens verify against a JWKS URL", async () => {
    const jwks = await serveJwks();
    const { connect } = await startServer({ env: { JWT_SECRET: "", JWKS_URL: jwks.url } });
    const rsToken = await new SignJWT({ sub: "rita", tenant: "acme" }).setProtectedHeader({ alg: "RS256", kid: "rsa-1" }).setExpirationTime("1h").sign(jwks.rsa.privateKey);
    expect((await connect(rsToken)).connected).toMatchObject({ userId: "rita", tenantId: "acme" });
    const esToken = await new SignJWT({ sub: "eve", tenant: "acme" }).setProtectedHeader({ alg: "ES256", kid: "ec-1" }).setExpirationTime("1h").sign(jwks.ec.privateKey);
    expect((await connect(esToken)).connected.userId).toBe("eve");
  });

  it("a key-confusion token (HS256 signed with the RSA public key) and an unknown key are refused", async () => {
    const jwks = await serveJwks();
    const { url } = await startServer({ env: { JWT_SECRET: "", JWKS_URL: jwks.url } });
    const pem = await exportSPKI(jwks.rsa.publicKey);
    const confused = await hs256({ sub: "mallory" }).setExpirationTime("1h").sign(new TextEncoder().encode(pem));
    expect((await connectError(url, { auth: { token: confused } })).data?.code).toBe("token_invalid");
    const stranger = await generateKeyPair("RS256");
    const unknown = await new SignJWT({ sub: "mallory" }).setProtectedHeader({ alg: "RS256", kid: "rsa-1" }).setExpirationTime("1h").sign(stranger.privateKey);
    expect((await connectError(url, { auth: { token: unknown } })).data?.code).toBe("token_invalid");
  });
});

describe("connection state recovery", () => {
  it("the auth middleware runs again on recovery: a recovered session with an expired token is refused", async () => {
    const { connect, token } = await startServer();
    const { socket } = await connect({ sub: "alice", tenant: "acme" }, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 50 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.auth = { token: await token({ sub: "alice", tenant: "acme" }, Math.floor(Date.now() / 1000) - 10) };
    const refused = nextEvent<Error & { data?: { code?: string } }>(socket, "connect_error");
    socket.io.engine.close();
    expect((await refused).data?.code).toBe("token_expired");
  });

  it("a recovered session keeps its rooms and reports recovered: true", async () => {
    const { connect } = await startServer();
    const { socket } = await connect({ sub: "alice", tenant: "acme" }, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 50 });
    await socket.emitWithAck("room:join", { room: "topic:news" });
    // Recovery needs the client to have seen at least one offset-bearing packet (a room broadcast).
    const observer = await connect({ sub: "bob", tenant: "acme" });
    const joined = nextEvent(socket, "room:userJoined");
    await observer.socket.emitWithAck("room:join", { room: "topic:news" });
    await joined;
    const reconnected = nextEvent<{ recovered: boolean }>(socket, "connected");
    socket.io.engine.close();
    expect((await reconnected).recovered).toBe(true);
    const { data } = await socket.emitWithAck("room:participants", { room: "topic:news" });
    expect(data.participants.map((p: { userId: string }) => p.userId).sort()).toEqual(["alice", "bob"]);
  });
});
