import { TENANT_PATTERN } from "@switchboard/protocol";
import { hostname } from "node:os";
import { z } from "zod";
import { DEFAULT_RATE_LIMITS } from "../core/limits/request-families.js";

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
  { env: "DATABASE_QUERY_TIMEOUT_MS", help: "a Postgres query without an answer for this long fails as unavailable (network partition; 0 = wait forever)", default: "15000" },
  { env: "DATA_DIR", help: "PGlite data directory (':memory:' for an in-memory database)", default: "./data" },
  { env: "PGLITE_TEMPLATE_DIR", help: "where a freshly initialized PGlite database is kept, to start new ones from in about 1 s instead of 3-4 ('off' = never)", default: "$XDG_CACHE_HOME/switchboard or ~/.cache/switchboard" },
  { env: "REDIS_URL", help: "Redis: channel events and rate limits shared across nodes; checked by /readyz" },
  { env: "REDIS_COMMAND_TIMEOUT_MS", help: "a Redis command without an answer for this long fails (a Redis that holds connections without answering; 0 = wait forever)", default: "2000" },
  { env: "REDIS_PREFIX", help: "prefix of Switchboard's Redis keys and channels (one per deployment)", default: "switchboard" },
  { env: "NODE_LEASE_MS", help: "with Redis: a node's presence, channel members and subscriptions outlive it by at most this (renewed every third of it)", default: "30000" },
  { env: "CORS_ORIGINS", help: "comma-separated Origin allowlist for HTTP and WebSocket upgrades (unset = any)" },
  { env: "CHANNEL_AUTH_URL", help: "app backend URL asked (POST) whether a user may join an app-defined channel" },
  { env: "CHANNEL_AUTH_SECRET", help: "when set, channel authorization webhook bodies are signed (X-Switchboard-Signature: sha256=HMAC)" },
  { env: "CHANNEL_AUTH_TIMEOUT_MS", help: "timeout of the channel authorization webhook", default: "3000" },
  { env: "PUSHER_APPS", help: "comma-separated appId:key:secret:tenant for the Pusher Channels protocol (unset = Pusher endpoints refuse every app)" },
  { env: "PUSHER_WEBHOOK_URL", help: "URL that receives Pusher-format webhooks of every Pusher app, signed with that app's key and secret" },
  { env: "PUSHER_ACTIVITY_TIMEOUT", help: "seconds of silence before the server pings a Pusher connection (activity_timeout)", default: "120" },
  { env: "API_KEYS", help: "comma-separated tenant:key pairs for the HTTP API (keys of 16+ characters)" },
  { env: "PRESENCE_IDLE_MS", help: "no client activity for this long turns a user away (0 = never)", default: "300000" },
  { env: "PRESENCE_OFFLINE_GRACE_MS", help: "a user whose last device left is announced offline only if none returns within this", default: "2000" },
  { env: "WS_HEARTBEAT_MS", help: "plain WebSocket (/realtime/ws) ping interval; a client that misses two pings in a row is dropped", default: "20000" },
  { env: "MAX_PAYLOAD_BYTES", help: "largest WebSocket frame / HTTP body accepted", default: "131072" },
  { env: "RECOVERY_WINDOW_MS", help: "Socket.IO connection state recovery window (0 = off)", default: "120000" },
  { env: "TYPING_TIMEOUT_MS", help: "silence after which the server sends typing:stop itself", default: "6000" },
  { env: "CALL_RING_TIMEOUT_MS", help: "unanswered call timeout", default: "30000" },
  { env: "CALL_GRACE_MS", help: "how long a call participant may be disconnected before the call ends", default: "15000" },
  { env: "CALL_SWEEP_INTERVAL_MS", help: "how often each node ends calls whose ringing timer was lost", default: "5000" },
  { env: "CALL_QUALITY_RTT_MS", help: "round-trip time above which call:qualityIssue is raised", default: "400" },
  { env: "CALL_QUALITY_JITTER_MS", help: "jitter above which call:qualityIssue is raised", default: "50" },
  { env: "CALL_QUALITY_LOSS_PCT", help: "packet loss above which call:qualityIssue is raised", default: "5" },
  { env: "SHUTDOWN_RECONNECT_MS", help: "reconnectInMs announced in server:shutdown", default: "2000" },
  { env: "SHUTDOWN_TIMEOUT_MS", help: "longest a graceful stop may take before the process exits anyway", default: "10000" },
  { env: "EVENTS_DATABASE_URL", help: "the app's Postgres to LISTEN on for domain events (see `switchboard sql trigger`)" },
  { env: "EVENTS_CHANNELS", help: "comma-separated LISTEN channel names", default: "switchboard_events" },
  { env: "WEBHOOK_URL", help: "receiver of outgoing webhooks (user.online, user.offline, message.created, call.missed, crisis.alert)" },
  { env: "WEBHOOK_TENANT_URLS", help: "per-tenant receivers overriding WEBHOOK_URL: comma-separated tenant=url" },
  { env: "WEBHOOK_SECRET", help: "HMAC-SHA256 key of the X-Switchboard-Signature header (16+ characters)" },
  { env: "WEBHOOK_MAX_ATTEMPTS", help: "delivery attempts before a webhook is marked failed", default: "8" },
  { env: "WEBHOOK_RETRY_BASE_MS", help: "first retry delay; doubles per attempt (max 1 h)", default: "1000" },
  { env: "WEBHOOK_TIMEOUT_MS", help: "how long a receiver may take to answer", default: "10000" },
  {
    env: "RATE_LIMITS",
    help: "per-user request limits overriding the defaults: family=points/seconds,... (families: message, typing, receipt, read, room, conversation, call, signal, quality, other; connect is per IP)",
    // The defaults live with the request families; written here in the variable's own syntax.
    default: Object.entries(DEFAULT_RATE_LIMITS)
      .map(([family, rule]) => `${family}=${rule.points}/${rule.durationMs / 1000}`)
      .join(","),
  },
  { env: "ABUSE_THRESHOLD", help: "rate-limited requests within a minute after which a connection is closed", default: "30" },
  { env: "MAX_CONNECTIONS_PER_USER", help: "open connections one user may hold on a node", default: "20" },
  { env: "MAX_ROOMS_PER_CONNECTION", help: "rooms one connection may join besides its automatic ones and the conversations and calls it takes part in; also the records it may view at once", default: "100" },
  { env: "ROOM_ANNOUNCE_MAX_MEMBERS", help: "room:userJoined / room:userLeft are sent only in rooms of at most this many users (0 = any size)", default: "100" },
  { env: "MAX_BUFFERED_BYTES", help: "unwritten bytes after which a slow client is disconnected", default: "8388608" },
  { env: "SESSION_IDLE_TIMEOUT_MS", help: "automatic logoff after this long without a request (0 = off)", default: "0" },
  { env: "VAPID_PUBLIC_KEY", help: "Web Push VAPID public key (npx web-push generate-vapid-keys)" },
  { env: "VAPID_PRIVATE_KEY", help: "Web Push VAPID private key" },
  { env: "VAPID_SUBJECT", help: "Web Push contact, mailto: or https: URL" },
  { env: "CRISIS_SLA_MS", help: "an unacknowledged critical crisis alert is escalated to role:admin after this long", default: "120000" },
  { env: "SCREENER_URL", help: "app screener webhook asked about every chat message and mood (adds to the built-in screener)" },
  { env: "SCREENER_SECRET", help: "signs screener webhook requests (X-Switchboard-Signature)" },
  { env: "AUDIT_RETENTION_DAYS", help: "audit entries older than this are deleted (0 = keep forever)", default: "365" },
  { env: "NODE_ID", help: "name of this node in logs, metrics and the audit log", default: "hostname-pid" },
  { env: "LOG_LEVEL", help: "pino level: fatal, error, warn, info, debug, trace, silent", default: "info" },
];

const list = (value: string | undefined): string[] =>
  (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** Every URL setting is fetched over HTTP: another scheme (ftp:, file:) could never work, so it stops the start. */
const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" });
const optionalUrl = httpUrl.optional();
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
  DATABASE_QUERY_TIMEOUT_MS: int(0, 3_600_000).default(15_000),
  DATA_DIR: z.string().min(1).default("./data"),
  PGLITE_TEMPLATE_DIR: z.string().min(1).optional(),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL").optional(),
  REDIS_COMMAND_TIMEOUT_MS: int(0, 600_000).default(2000),
  REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, "must be 1-64 characters of A-Z a-z 0-9 _ . : -").default("switchboard"),
  NODE_LEASE_MS: int(300, 600_000).default(30_000),
  CORS_ORIGINS: z.string().optional(),
  CHANNEL_AUTH_URL: optionalUrl,
  CHANNEL_AUTH_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  CHANNEL_AUTH_TIMEOUT_MS: int(100, 60_000).default(3000),
  PUSHER_APPS: z.string().optional(),
  PUSHER_WEBHOOK_URL: optionalUrl,
  PUSHER_ACTIVITY_TIMEOUT: int(1, 3600).default(120),
  API_KEYS: z.string().optional(),
  PRESENCE_IDLE_MS: int(0, 7 * 24 * 3600_000).default(300_000),
  PRESENCE_OFFLINE_GRACE_MS: int(0, 600_000).default(2000),
  WS_HEARTBEAT_MS: int(100, 600_000).default(20_000),
  MAX_PAYLOAD_BYTES: int(1024, 16 * 1024 * 1024).default(131_072),
  RECOVERY_WINDOW_MS: int(0, 24 * 3600_000).default(120_000),
  TYPING_TIMEOUT_MS: int(100, 600_000).default(6000),
  CALL_RING_TIMEOUT_MS: int(100, 600_000).default(30_000),
  CALL_GRACE_MS: int(0, 600_000).default(15_000),
  CALL_SWEEP_INTERVAL_MS: int(100, 600_000).default(5000),
  CALL_QUALITY_RTT_MS: z.coerce.number().min(0).default(400),
  CALL_QUALITY_JITTER_MS: z.coerce.number().min(0).default(50),
  CALL_QUALITY_LOSS_PCT: z.coerce.number().min(0).max(100).default(5),
  SHUTDOWN_RECONNECT_MS: int(0, 600_000).default(2000),
  SHUTDOWN_TIMEOUT_MS: int(100, 600_000).default(10_000),
  EVENTS_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL").optional(),
  EVENTS_CHANNELS: z.string().default("switchboard_events"),
  WEBHOOK_URL: optionalUrl,
  WEBHOOK_TENANT_URLS: z.string().optional(),
  WEBHOOK_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  WEBHOOK_MAX_ATTEMPTS: int(1, 100).default(8),
  WEBHOOK_RETRY_BASE_MS: int(10, 3_600_000).default(1000),
  WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(10_000),
  RATE_LIMITS: z.string().optional(),
  ABUSE_THRESHOLD: int(1, 100_000).default(30),
  MAX_CONNECTIONS_PER_USER: int(1, 100_000).default(20),
  MAX_ROOMS_PER_CONNECTION: int(1, 100_000).default(100),
  ROOM_ANNOUNCE_MAX_MEMBERS: int(0, 10_000_000).default(100),
  MAX_BUFFERED_BYTES: int(1024, 1024 ** 3).default(8 * 1024 * 1024),
  SESSION_IDLE_TIMEOUT_MS: int(0, 7 * 24 * 3600_000).default(0),
  VAPID_PUBLIC_KEY: z.string().regex(/^[A-Za-z0-9_-]{80,100}$/, "must be a base64url P-256 public key").optional(),
  VAPID_PRIVATE_KEY: z.string().regex(/^[A-Za-z0-9_-]{40,50}$/, "must be a base64url P-256 private key").optional(),
  VAPID_SUBJECT: z.string().regex(/^(mailto:|https?:\/\/)/, "must be a mailto: or https: URL").optional(),
  CRISIS_SLA_MS: int(100, 24 * 3600_000).default(120_000),
  SCREENER_URL: optionalUrl,
  SCREENER_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  AUDIT_RETENTION_DAYS: int(0, 36_500).default(365),
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
  /** `templateDir`: PGLITE_TEMPLATE_DIR as set ("off", a directory, or unset for the user's cache directory). */
  database: { url?: string; schema: string; poolSize: number; queryTimeoutMs: number; dataDir: string; templateDir?: string };
  redisUrl?: string;
  /** Bound on one Redis command (0: none). */
  redisCommandTimeoutMs: number;
  redisPrefix: string;
  /** Lease of a node's live entries in Redis; a crashed node's users are gone within about 4/3 of it. */
  nodeLeaseMs: number;
  /** Empty = any origin. */
  corsOrigins: string[];
  channelAuth: { url?: string; secret?: string; timeoutMs: number };
  /** Pusher Channels apps; each maps to one tenant. */
  pusherApps: PusherApp[];
  pusher: { webhookUrl?: string; activityTimeoutSeconds: number };
  /** HTTP API keys (`API_KEYS`); empty = the key-authenticated API refuses every request. */
  apiKeys: ApiKey[];
  presence: { idleMs: number; offlineGraceMs: number };
  /** Plain WebSocket ping interval (`WS_HEARTBEAT_MS`): a client is dropped at the second check it has not answered. */
  wsHeartbeatMs: number;
  maxPayloadBytes: number;
  recoveryWindowMs: number;
  typingTimeoutMs: number;
  calls: {
    ringTimeoutMs: number;
    graceMs: number;
    sweepIntervalMs: number;
    thresholds: { rttMs: number; jitterMs: number; packetLossPct: number };
  };
  shutdown: { reconnectInMs: number; timeoutMs: number };
  webhook: {
    url?: string;
    tenantUrls: Record<string, string>;
    secret?: string;
    maxAttempts: number;
    retryBaseMs: number;
    timeoutMs: number;
  };
  limits: {
    /** Overrides of the per-family defaults, parsed from RATE_LIMITS. */
    rateLimits: Record<string, { points: number; durationMs: number }>;
    abuseThreshold: number;
    maxConnectionsPerUser: number;
    maxRoomsPerConnection: number;
    /** Rooms of more users than this get no join/leave announcements (0 = no limit). */
    announceMaxMembers: number;
    maxBufferedBytes: number;
    idleTimeoutMs: number;
  };
  auditRetentionDays: number;
  crisis: { slaMs: number; screenerUrl?: string; screenerSecret?: string };
  /** Web Push; on when all three are set. */
  vapid?: { publicKey: string; privateKey: string; subject: string };
  /** The Postgres LISTEN/NOTIFY bridge; off without a URL. */
  events: { databaseUrl?: string; channels: string[] };
}

/** One Pusher Channels app (`PUSHER_APPS` entry `appId:key:secret:tenant`). */
export interface PusherApp {
  appId: string;
  key: string;
  secret: string;
  tenantId: string;
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
  const eventChannels = list(e.EVENTS_CHANNELS);
  for (const name of eventChannels) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) problems.push(`EVENTS_CHANNELS: "${name}" must be a SQL identifier`);
  }
  const tenantUrls: Record<string, string> = {};
  for (const entry of list(e.WEBHOOK_TENANT_URLS)) {
    const at = entry.indexOf("=");
    const tenant = entry.slice(0, at);
    const url = entry.slice(at + 1);
    if (at < 1 || !/^[A-Za-z0-9_.-]{1,64}$/.test(tenant) || !httpUrl.safeParse(url).success) problems.push(`WEBHOOK_TENANT_URLS: "${entry}" must be tenant=https://...`);
    // Two receivers for one tenant is a typo, not a choice: which one would win is not obvious.
    else if (Object.hasOwn(tenantUrls, tenant)) problems.push(`WEBHOOK_TENANT_URLS: tenant "${tenant}" is given twice`);
    else tenantUrls[tenant] = url;
  }
  const rateLimits: Record<string, { points: number; durationMs: number }> = {};
  for (const entry of list(e.RATE_LIMITS)) {
    const match = /^([a-z]+)=(\d+)\/(\d+(?:\.\d+)?)$/.exec(entry);
    if (!match || Number(match[2]) < 1 || Number(match[3]) <= 0) problems.push(`RATE_LIMITS: "${entry}" must be family=points/seconds, e.g. message=30/10`);
    // A misspelt family (mesage=5/10) would otherwise be ignored without a word, leaving the default in force.
    else if (!Object.hasOwn(DEFAULT_RATE_LIMITS, match[1]!)) problems.push(`RATE_LIMITS: "${match[1]}" is not a family (${Object.keys(DEFAULT_RATE_LIMITS).join(", ")})`);
    else rateLimits[match[1]!] = { points: Number(match[2]), durationMs: Number(match[3]) * 1000 };
  }
  const pusherApps = parsePusherApps(list(e.PUSHER_APPS), problems);
  const vapidSet = [e.VAPID_PUBLIC_KEY, e.VAPID_PRIVATE_KEY, e.VAPID_SUBJECT].filter(Boolean).length;
  if (vapidSet > 0 && vapidSet < 3) problems.push("VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT: set all three for Web Push, or none");
  const apiKeys = parseApiKeys(list(e.API_KEYS), problems);
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    port: e.PORT,
    host: e.HOST,
    nodeId: e.NODE_ID ?? `${hostname()}-${process.pid}`,
    logLevel: e.LOG_LEVEL,
    jwt: {
      secret: e.JWT_SECRET,
      jwksUrl: e.JWKS_URL,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      requireExp: e.JWT_REQUIRE_EXP,
    },
    database: { url: e.DATABASE_URL, schema: e.DATABASE_SCHEMA, poolSize: e.DATABASE_POOL_SIZE, queryTimeoutMs: e.DATABASE_QUERY_TIMEOUT_MS, dataDir: e.DATA_DIR, templateDir: e.PGLITE_TEMPLATE_DIR },
    redisUrl: e.REDIS_URL,
    redisCommandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
    redisPrefix: e.REDIS_PREFIX,
    nodeLeaseMs: e.NODE_LEASE_MS,
    corsOrigins,
    channelAuth: { url: e.CHANNEL_AUTH_URL, secret: e.CHANNEL_AUTH_SECRET, timeoutMs: e.CHANNEL_AUTH_TIMEOUT_MS },
    pusherApps,
    pusher: { webhookUrl: e.PUSHER_WEBHOOK_URL, activityTimeoutSeconds: e.PUSHER_ACTIVITY_TIMEOUT },
    apiKeys,
    presence: { idleMs: e.PRESENCE_IDLE_MS, offlineGraceMs: e.PRESENCE_OFFLINE_GRACE_MS },
    wsHeartbeatMs: e.WS_HEARTBEAT_MS,
    maxPayloadBytes: e.MAX_PAYLOAD_BYTES,
    recoveryWindowMs: e.RECOVERY_WINDOW_MS,
    typingTimeoutMs: e.TYPING_TIMEOUT_MS,
    calls: {
      ringTimeoutMs: e.CALL_RING_TIMEOUT_MS,
      graceMs: e.CALL_GRACE_MS,
      sweepIntervalMs: e.CALL_SWEEP_INTERVAL_MS,
      thresholds: { rttMs: e.CALL_QUALITY_RTT_MS, jitterMs: e.CALL_QUALITY_JITTER_MS, packetLossPct: e.CALL_QUALITY_LOSS_PCT },
    },
    shutdown: { reconnectInMs: e.SHUTDOWN_RECONNECT_MS, timeoutMs: e.SHUTDOWN_TIMEOUT_MS },
    events: { databaseUrl: e.EVENTS_DATABASE_URL, channels: eventChannels },
    vapid: vapidSet === 3 ? { publicKey: e.VAPID_PUBLIC_KEY!, privateKey: e.VAPID_PRIVATE_KEY!, subject: e.VAPID_SUBJECT! } : undefined,
    auditRetentionDays: e.AUDIT_RETENTION_DAYS,
    crisis: { slaMs: e.CRISIS_SLA_MS, screenerUrl: e.SCREENER_URL, screenerSecret: e.SCREENER_SECRET },
    limits: {
      rateLimits,
      abuseThreshold: e.ABUSE_THRESHOLD,
      maxConnectionsPerUser: e.MAX_CONNECTIONS_PER_USER,
      maxRoomsPerConnection: e.MAX_ROOMS_PER_CONNECTION,
      announceMaxMembers: e.ROOM_ANNOUNCE_MAX_MEMBERS,
      maxBufferedBytes: e.MAX_BUFFERED_BYTES,
      idleTimeoutMs: e.SESSION_IDLE_TIMEOUT_MS,
    },
    webhook: {
      url: e.WEBHOOK_URL,
      tenantUrls,
      secret: e.WEBHOOK_SECRET,
      maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
    },
  };
}

const PUSHER_APP_ID = /^[A-Za-z0-9_-]{1,64}$/;
const PUSHER_KEY = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * Parses `PUSHER_APPS` entries. Problems name the entry by position and app id
 * only: an entry holds a secret, and configuration errors end up in logs.
 */
function parsePusherApps(entries: string[], problems: string[]): PusherApp[] {
  const apps: PusherApp[] = [];
  entries.forEach((entry, index) => {
    const where = `PUSHER_APPS: entry ${index + 1}`;
    const parts = entry.split(":");
    if (parts.length !== 4) {
      problems.push(`${where} must be appId:key:secret:tenant (4 parts separated by ':', got ${parts.length})`);
      return;
    }
    const [appId, key, secret, tenantId] = parts as [string, string, string, string];
    const named = `${where} (app "${PUSHER_APP_ID.test(appId) ? appId : "?"}")`;
    if (!PUSHER_APP_ID.test(appId)) problems.push(`${where}: app id must be 1-64 characters of A-Z a-z 0-9 _ -`);
    if (!PUSHER_KEY.test(key)) problems.push(`${named}: key must be 1-128 characters of A-Z a-z 0-9 _ . -`);
    if (secret.length < 8) problems.push(`${named}: secret must be at least 8 characters`);
    if (!TENANT_PATTERN.test(tenantId)) problems.push(`${named}: tenant must be 1-64 characters of A-Z a-z 0-9 _ . -`);
    if (apps.some((a) => a.appId === appId)) problems.push(`${named}: app id is listed twice`);
    if (apps.some((a) => a.key === key)) problems.push(`${named}: key is used by another app`);
    apps.push({ appId, key, secret, tenantId });
  });
  return apps;
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
    "  switchboard start --cluster <n>   n nodes on PORT+1..PORT+n behind a round-robin balancer on PORT",
    "                          (needs DATABASE_URL and REDIS_URL; clients use the WebSocket transport)",
    "  switchboard sql trigger --table <t> --event <e> --channel <sql> (--tenant <id> | --tenant-expr <sql>)",
    "                          [--notify-channel switchboard_events] [--on insert,update]",
    "                          print SQL that publishes <e> when rows are added to <t> (Postgres bridge)",
    "  switchboard keys create --tenant <id> [--name <n>]   print a new API key (only its hash is stored)",
    "  switchboard keys list [--tenant <id>] | keys revoke --id <key id>",
    "  switchboard --help      show this help",
    "",
    "Environment:",
    ...rows,
    "",
  ].join("\n");
}
