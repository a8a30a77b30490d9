import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { ConfigError, helpText, loadConfig } from "@switchboard/server";

describe("configuration", () => {
  it("an empty environment gives the documented defaults", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: "0.0.0.0",
      logLevel: "info",
      corsOrigins: [],
      maxPayloadBytes: 131_072,
      database: { url: undefined, schema: "public", dataDir: "./data", poolSize: 10, queryTimeoutMs: 15_000 },
      jwt: { secret: undefined, jwksUrl: undefined, requireExp: true },
      shutdown: { reconnectInMs: 2000, timeoutMs: 10_000 },
    });
  });

  it("environment variables override defaults and lists are split on commas", () => {
    const config = loadConfig({
      PORT: "8080",
      JWT_SECRET: "0123456789abcdef0123",
      DATABASE_URL: "postgres://u@db:5432/app",
      CORS_ORIGINS: " https://a.example , https://b.example:8443 ",
      JWT_REQUIRE_EXP: "false",
      LOG_LEVEL: "",
    });
    expect(config.port).toBe(8080);
    expect(config.jwt).toMatchObject({ secret: "0123456789abcdef0123", requireExp: false });
    expect(config.database.url).toBe("postgres://u@db:5432/app");
    expect(config.corsOrigins).toEqual(["https://a.example", "https://b.example:8443"]);
    expect(config.logLevel).toBe("info");
  });

  it("every bad value is reported with its variable name", () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({ PORT: "70000", JWT_SECRET: "short", DATABASE_URL: "mysql://x", JWKS_URL: "not a url", LOG_LEVEL: "loud", CORS_ORIGINS: "https://ok.example,https://bad.example/path" });
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = error!.problems.join("\n");
    for (const name of ["PORT", "JWT_SECRET", "DATABASE_URL", "JWKS_URL", "LOG_LEVEL"]) expect(text).toContain(`${name}:`);
    expect(loadConfigProblems({ CORS_ORIGINS: "https://bad.example/path" })).toEqual([expect.stringContaining("CORS_ORIGINS")]);
  });

  it("URL settings that are not http(s) and a tenant given two webhook receivers stop the start, naming the variable", () => {
    for (const [name, value] of [
      ["WEBHOOK_URL", "ftp://127.0.0.1/x"],
      ["WEBHOOK_URL", "file:///etc/passwd"],
      ["PUSHER_WEBHOOK_URL", "ftp://hooks.example/x"],
      ["CHANNEL_AUTH_URL", "javascript:alert(1)"],
      ["SCREENER_URL", "ws://screen.example/x"],
      ["WEBHOOK_TENANT_URLS", "acme=ftp://hooks.example/x"],
      ["WEBHOOK_TENANT_URLS", "acme=javascript:alert"],
      ["WEBHOOK_TENANT_URLS", "acme=https://a.example/1,acme=https://a.example/2"],
    ]) {
      expect(loadConfigProblems({ [name!]: value! }), `${name}=${value}`).toEqual([expect.stringContaining(`${name}:`)]);
    }
    expect(loadConfig({ WEBHOOK_URL: "http://hooks.internal:8080/in", WEBHOOK_TENANT_URLS: "acme=https://a.example/1,globex=https://g.example/2" }).webhook).toMatchObject({
      url: "http://hooks.internal:8080/in",
      tenantUrls: { acme: "https://a.example/1", globex: "https://g.example/2" },
    });
  });

  it("PUSHER_APPS entries become apps mapped to tenants", () => {
    const config = loadConfig({ PUSHER_APPS: "1001:key-a:secret-aaaaaaaa:acme, 1002:key-b:secret-bbbbbbbb:globex", PUSHER_WEBHOOK_URL: "https://hooks.example/pusher" });
    expect(config.pusherApps).toEqual([
      { appId: "1001", key: "key-a", secret: "secret-aaaaaaaa", tenantId: "acme" },
      { appId: "1002", key: "key-b", secret: "secret-bbbbbbbb", tenantId: "globex" },
    ]);
    expect(config.pusher).toEqual({ webhookUrl: "https://hooks.example/pusher", activityTimeoutSeconds: 120 });
    expect(loadConfig({}).pusherApps).toEqual([]);
  });

  it("a bad PUSHER_APPS entry is reported by position without ever printing its secret", () => {
    const problems = loadConfigProblems({
      PUSHER_APPS: "1001:key-a:topsecret-1:acme,1002:key-b:short:acme,1003:key-a:topsecret-3:bad/tenant,too:few:parts-topsecret-4,1001:key-c:topsecret-5:acme",
    });
    const text = problems.join("\n");
    expect(text).toContain("PUSHER_APPS: entry 2");
    expect(text).toContain("secret must be at least 8 characters");
    expect(text).toContain("entry 3");
    expect(text).toContain("key is used by another app");
    expect(text).toContain("entry 4 must be appId:key:secret:tenant");
    expect(text).toContain("app id is listed twice");
    for (const secret of ["topsecret", "short"]) expect(text).not.toContain(secret);
  });

  it("--help text lists every variable the server reads", () => {
    const text = helpText();
    for (const name of ["PORT", "JWT_SECRET", "JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE", "DATABASE_URL", "DATA_DIR", "REDIS_URL", "CORS_ORIGINS", "LOG_LEVEL", "PUSHER_APPS", "PUSHER_WEBHOOK_URL"]) {
      expect(text).toContain(name);
    }
  });

  it("NODE_ID defaults to hostname-pid, as the README says", () => {
    expect(loadConfig({ JWT_SECRET: "x".repeat(32) }).nodeId).toBe(`${hostname()}-${process.pid}`);
  });

  it("RATE_LIMITS naming no family stops the start instead of being ignored; the families and connect are accepted", () => {
    const text = loadConfigProblems({ JWT_SECRET: "x".repeat(32), RATE_LIMITS: "mesage=5/10,bogus=1/1" }).join("\n");
    expect(text).toContain(`RATE_LIMITS: "mesage" is not a family`);
    expect(text).toContain(`"bogus" is not a family`);
    const accepted = loadConfig({ JWT_SECRET: "x".repeat(32), RATE_LIMITS: "message=5/10,connect=100/60,other=7/1" }).limits.rateLimits;
    expect(accepted).toEqual({ message: { points: 5, durationMs: 10_000 }, connect: { points: 100, durationMs: 60_000 }, other: { points: 7, durationMs: 1000 } });
  });

  it("--help shows the RATE_LIMITS defaults, in a form RATE_LIMITS itself accepts", () => {
    const line = helpText().split("\n").find((l) => l.trimStart().startsWith("RATE_LIMITS"))!;
    const defaults = /\(default ([^)]+)\)$/.exec(line)?.[1];
    expect(defaults).toContain("message=30/10");
    expect(defaults).toContain("connect=60/60");
    expect(loadConfig({ JWT_SECRET: "x".repeat(32), RATE_LIMITS: defaults! }).limits.rateLimits.message).toEqual({ points: 30, durationMs: 10_000 });
  });
});

function loadConfigProblems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    return (err as ConfigError).problems;
  }
}
