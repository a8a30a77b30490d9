import { TENANT_PATTERN } from "@switchboard/protocol";
import { z } from "zod";

/** One documented setting: environment variable, meaning, default shown by `--help`. */
interface Setting {
  env: string;
  help: string;
  default?: string;
}

/** Every environment variable the server reads, in `--help` order. */
export const SETTINGS: readonly Setting[] = [
  { env: "PORT", help: "HTTP + WebSocket port", default: "3000" },
  { env: "HOST", help: "interface to listen on", default: "0.0.0.0" },
  { env: "JWT_SECRET", help: "HS256 secret for user tokens (unset and no JWKS_URL: a development secret is generated)" },
  { env: "JWKS_URL", help: "JWKS URL for RS256/ES256 user tokens" },
  { env: "JWT_ISSUER", help: "required `iss` of user tokens" },
  { env: "JWT_AUDIENCE", help: "required `aud` of user tokens" },
  { env: "JWT_REQUIRE_EXP", help: "refuse tokens without `exp`", default: "true" },
  { env: "DATABASE_URL", help: "Postgres connection string; unset = embedded PGlite in DATA_DIR" },
  { env: "DATABASE_SCHEMA", help: "Postgres schema for Switchboard's tables", default: "public" },
  { env: "DATABASE_POOL_SIZE", help: "Postgres connections per node", default: "10" },
  { env: "DATA_DIR", help: "PGlite data directory (':memory:' for an in-memory database)", default: "./data" },
  { env: "REDIS_URL", help: "Redis connection string; reported by /readyz (multi-node drivers are not built yet)" },
  { env: "CORS_ORIGINS", help: "comma-separated Origin allowlist for HTTP and WebSocket upgrades (unset = any)" },
  { env: "CHANNEL_AUTH_URL", help: "app backend URL asked (POST) whether a user may join an app-defined channel" },
  { env: "CHANNEL_AUTH_SECRET", help: "when set, channel authorization webhook bodies are signed (X-Switchboard-Signature: sha256=HMAC)" },
  { env: "CHANNEL_AUTH_TIMEOUT_MS", help: "timeout of the channel authorization webhook", default: "3000" },
  { env: "API_KEYS", help: "comma-separated tenant:key pairs for the HTTP API (keys of 16+ characters)" },
  { env: "PRESENCE_IDLE_MS", help: "no client activity for this long turns a user away (0 = never)", default: "300000" },
  { env: "PRESENCE_OFFLINE_GRACE_MS", help: "a user whose last device left is announced offline only if none returns within this", default: "2000" },
  { env: "MAX_PAYLOAD_BYTES", help: "largest WebSocket frame / HTTP body accepted", default: "131072" },
  { env: "RECOVERY_WINDOW_MS", help: "Socket.IO connection state recovery window (0 = off)", default: "120000" },
  { env: "SHUTDOWN_RECONNECT_MS", help: "reconnectInMs announced in server:shutdown", default: "2000" },
  { env: "SHUTDOWN_TIMEOUT_MS", help: "longest a graceful stop may take before the process exits anyway", default: "10000" },
  { env: "NODE_ID", help: "name of this node in logs, metrics and the audit log", default: "hostname-pid" },
  { env: "LOG_LEVEL", help: "pino level: fatal, error, warn, info, debug, trace, silent", default: "info" },
];

const list = (value: string | undefined): string[] =>
  (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

const optionalUrl = z.url().optional();
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const bool = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

/** Parsed from the environment; every field validated, every default applied. */
const envSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  JWT_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  JWKS_URL: optionalUrl,
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  JWT_REQUIRE_EXP: bool.default(true),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
    .optional(),
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lowercase SQL identifier").default("public"),
  DATABASE_POOL_SIZE: int(1, 500).default(10),
  DATA_DIR: z.string().min(1).default("./data"),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL").optional(),
  CORS_ORIGINS: z.string().optional(),
  CHANNEL_AUTH_URL: optionalUrl,
  CHANNEL_AUTH_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  CHANNEL_AUTH_TIMEOUT_MS: int(100, 60_000).default(3000),
  API_KEYS: z.string().optional(),
  PRESENCE_IDLE_MS: int(0, 7 * 24 * 3600_000).default(300_000),
  PRESENCE_OFFLINE_GRACE_MS: int(0, 600_000).default(2000),
  MAX_PAYLOAD_BYTES: int(1024, 16 * 1024 * 1024).default(131_072),
  RECOVERY_WINDOW_MS: int(0, 24 * 3600_000).default(120_000),
  SHUTDOWN_RECONNECT_MS: int(0, 600_000).default(2000),
  SHUTDOWN_TIMEOUT_MS: int(100, 600_000).default(10_000),
  NODE_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

/** One HTTP API key and the tenant it acts for. */
export interface ApiKey {
  tenantId: string;
  key: string;
}

/** Shortest API key accepted (PROTOCOL.md section 10). */
export const API_KEY_MIN_LENGTH = 16;

/** The server's configuration, typed and validated. */
export interface Config {
  port: number;
  host: string;
  nodeId: string;
  logLevel: z.infer<typeof envSchema>["LOG_LEVEL"];
  jwt: {
    /** HS256 secret; generated for development when neither it nor a JWKS URL is set. */
    secret?: string;
    jwksUrl?: string;
    issuer?: string;
    audience?: string;
    requireExp: boolean;
  };
  database: { url?: string; schema: string; poolSize: number; dataDir: string };
  redisUrl?: string;
  /** Empty = any origin. */
  corsOrigins: string[];
  channelAuth: { url?: string; secret?: string; timeoutMs: number };
  /** HTTP API keys (`API_KEYS`); empty = the key-authenticated API refuses every request. */
  apiKeys: ApiKey[];
  presence: { idleMs: number; offlineGraceMs: number };
  maxPayloadBytes: number;
  recoveryWindowMs: number;
  shutdown: { reconnectInMs: number; timeoutMs: number };
}

/** Thrown by {@link loadConfig}; `problems` has one line per bad value. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/**
 * Reads and validates the configuration once, from environment variables.
 * Unset or empty variables take their defaults.
 *
 * @throws ConfigError listing every bad value, with the variable's name.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned: Record<string, string> = {};
  for (const { env: name } of SETTINGS) {
    const value = env[name];
    if (value !== undefined && value.trim() !== "") cleaned[name] = value.trim();
  }
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const corsOrigins = list(e.CORS_ORIGINS);
  for (const origin of corsOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) problems.push(`CORS_ORIGINS: "${origin}" must be an origin like https://app.example.com (no path)`);
  }
  const apiKeys = parseApiKeys(list(e.API_KEYS), problems);
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    port: e.PORT,
    host: e.HOST,
    nodeId: e.NODE_ID ?? `${process.env.HOSTNAME ?? "node"}-${process.pid}`,
    logLevel: e.LOG_LEVEL,
    jwt: {
      secret: e.JWT_SECRET,
      jwksUrl: e.JWKS_URL,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      requireExp: e.JWT_REQUIRE_EXP,
    },
    database: { url: e.DATABASE_URL, schema: e.DATABASE_SCHEMA, poolSize: e.DATABASE_POOL_SIZE, dataDir: e.DATA_DIR },
    redisUrl: e.REDIS_URL,
    corsOrigins,
    channelAuth: { url: e.CHANNEL_AUTH_URL, secret: e.CHANNEL_AUTH_SECRET, timeoutMs: e.CHANNEL_AUTH_TIMEOUT_MS },
    apiKeys,
    presence: { idleMs: e.PRESENCE_IDLE_MS, offlineGraceMs: e.PRESENCE_OFFLINE_GRACE_MS },
    maxPayloadBytes: e.MAX_PAYLOAD_BYTES,
    recoveryWindowMs: e.RECOVERY_WINDOW_MS,
    shutdown: { reconnectInMs: e.SHUTDOWN_RECONNECT_MS, timeoutMs: e.SHUTDOWN_TIMEOUT_MS },
  };
}

/**
 * `tenant:key` entries (the key may itself contain `:`). Problems name the entry
 * by position and tenant, never by key: configuration errors end up in logs.
 */
function parseApiKeys(entries: string[], problems: string[]): ApiKey[] {
  const keys: ApiKey[] = [];
  const seen = new Set<string>();
  for (const [index, entry] of entries.entries()) {
    const problem = apiKeyProblem(entry, seen);
    if (problem) {
      problems.push(`API_KEYS: entry ${index + 1} ${problem}`);
      continue;
    }
    const at = entry.indexOf(":");
    const key = entry.slice(at + 1);
    seen.add(key);
    keys.push({ tenantId: entry.slice(0, at), key });
  }
  return keys;
}

function apiKeyProblem(entry: string, seen: ReadonlySet<string>): string | undefined {
  const at = entry.indexOf(":");
  if (at < 0) return "must be tenant:key";
  const tenantId = entry.slice(0, at);
  const key = entry.slice(at + 1);
  if (!TENANT_PATTERN.test(tenantId)) return "has a bad tenant id (1-64 characters of A-Z a-z 0-9 _ . -)";
  if (key.length < API_KEY_MIN_LENGTH) return `(tenant ${tenantId}): the key must be at least ${API_KEY_MIN_LENGTH} characters`;
  if (/\s/.test(key)) return `(tenant ${tenantId}): the key must not contain whitespace`;
  if (seen.has(key)) return `(tenant ${tenantId}): the same key is listed twice`;
  return undefined;
}

/** The `switchboard --help` text: commands and every environment variable. */
export function helpText(): string {
  const width = Math.max(...SETTINGS.map((s) => s.env.length));
  const rows = SETTINGS.map((s) => `  ${s.env.padEnd(width)}  ${s.help}${s.default ? ` (default ${s.default})` : ""}`);
  return [
    "Switchboard: self-hosted real-time server for apps where people talk to people",
    "",
    "Usage:",
    "  switchboard [start]     start the server (configured by the environment below)",
    "  switchboard --help      show this help",
    "",
    "Environment:",
    ...rows,
    "",
  ].join("\n");
}
