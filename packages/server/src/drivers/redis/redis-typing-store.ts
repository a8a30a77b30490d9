import type { Redis } from "ioredis";
import type { TypingEntry, TypingStore } from "../../ports/typing-store.js";
import { LuaScript } from "./redis-leases.js";

// Keys, under ns = `<prefix>:typing:`; an indicator's id is the JSON [tenant, user, conversation]:
//   ns entries                   HASH id -> TypingEntry JSON
//   ns deadlines                 ZSET id -> deadline (ms)
//   ns conn:<tenant>/<connection> SET of ids last started from the connection
const COMMON = `
local ns = ARGV[1]
local function connKey(t, c) return ns .. 'conn:' .. t .. '/' .. tostring(c) end
local function unlink(entry, id) if entry.connectionId then redis.call('SREM', connKey(entry.tenantId, entry.connectionId), id) end end
local function link(entry, id) if entry.connectionId then redis.call('SADD', connKey(entry.tenantId, entry.connectionId), id) end end
local function stop(id)
  local raw = redis.call('HGET', ns .. 'entries', id)
  if not raw then return nil end
  redis.call('HDEL', ns .. 'entries', id)
  redis.call('ZREM', ns .. 'deadlines', id)
  unlink(cjson.decode(raw), id)
  return raw
end
-- Refreshes a running indicator; ARGV[5] is the new connection id ('' for none).
local function refresh(id, untilMs, connectionId)
  local raw = redis.call('HGET', ns .. 'entries', id)
  if not raw then return 0 end
  local entry = cjson.decode(raw)
  unlink(entry, id)
  if connectionId == '' then entry.connectionId = nil else entry.connectionId = connectionId end
  link(entry, id)
  redis.call('HSET', ns .. 'entries', id, cjson.encode(entry))
  redis.call('ZADD', ns .. 'deadlines', untilMs, id)
  return 1
end
`;

// ARGV: ns, id, until, connection id or ''
const REFRESH = `${COMMON}
return refresh(ARGV[2], ARGV[3], ARGV[4])`;

// ARGV: ns, id, until, connection id or '', entry JSON
const START = `${COMMON}
if refresh(ARGV[2], ARGV[3], ARGV[4]) == 1 then return 0 end
redis.call('HSET', ns .. 'entries', ARGV[2], ARGV[5])
redis.call('ZADD', ns .. 'deadlines', ARGV[3], ARGV[2])
link(cjson.decode(ARGV[5]), ARGV[2])
return 1`;

// ARGV: ns, id
const STOP = `${COMMON}
return stop(ARGV[2])`;

// ARGV: ns, tenant, connection
const STOP_CONNECTION = `${COMMON}
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', connKey(ARGV[2], ARGV[3]))) do
  local raw = stop(id)
  if raw then table.insert(out, raw) end
end
redis.call('DEL', connKey(ARGV[2], ARGV[3]))
return out`;

// ARGV: ns, now
const TAKE_EXPIRED = `${COMMON}
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', ns .. 'deadlines', '-inf', '(' .. ARGV[2], 'LIMIT', 0, 1000)) do
  local raw = stop(id)
  if raw then table.insert(out, raw) end
end
return out`;

/**
 * Typing indicators shared by every node (Redis): each node sweeps the
 * deadlines, and the script that ends an indicator hands it to one caller,
 * so `typing:stop` is announced once, on time, even when the typist's node died.
 */
export class RedisTypingStore implements TypingStore {
  private readonly ns: string;
  private readonly scripts: Record<"refresh" | "start" | "stop" | "stopConnection" | "takeExpired", LuaScript>;

  constructor(redis: Redis, prefix: string) {
    this.ns = `${prefix}:typing:`;
    const script = (source: string) => new LuaScript(redis, source);
    this.scripts = { refresh: script(REFRESH), start: script(START), stop: script(STOP), stopConnection: script(STOP_CONNECTION), takeExpired: script(TAKE_EXPIRED) };
  }

  async refresh(tenantId: string, userId: string, conversationId: string, until: number, connectionId?: string): Promise<boolean> {
    return (await this.scripts.refresh.run([this.ns, id(tenantId, userId, conversationId), until, connectionId ?? ""])) === 1;
  }

  async start(entry: TypingEntry, until: number): Promise<boolean> {
    const key = id(entry.tenantId, entry.userId, entry.conversationId);
    return (await this.scripts.start.run([this.ns, key, until, entry.connectionId ?? "", JSON.stringify(entry)])) === 1;
  }

  async stop(tenantId: string, userId: string, conversationId: string): Promise<TypingEntry | undefined> {
    const raw = await this.scripts.stop.run([this.ns, id(tenantId, userId, conversationId)]);
    return typeof raw === "string" ? parse(raw) : undefined;
  }

  async stopConnection(tenantId: string, connectionId: string): Promise<TypingEntry[]> {
    return ((await this.scripts.stopConnection.run([this.ns, tenantId, connectionId])) as string[]).map(parse);
  }

  async takeExpired(now: number): Promise<TypingEntry[]> {
    return ((await this.scripts.takeExpired.run([this.ns, now])) as string[]).map(parse);
  }
}

function id(tenantId: string, userId: string, conversationId: string): string {
  return JSON.stringify([tenantId, userId, conversationId]);
}

function parse(raw: string): TypingEntry {
  const entry = JSON.parse(raw) as TypingEntry & { participants: string[] | Record<string, never> };
  // cjson writes an empty array as {}.
  return { ...entry, participants: Array.isArray(entry.participants) ? entry.participants : [] };
}
