import type { Redis } from "ioredis";
import type { ExpiredEntries, LiveUserState, PresenceConnection, PresenceStore, PresenceViewer } from "../../ports/presence-store.js";
import { LEASE_LUA, LuaScript, ownerId, PendingRemovals, redisCall, renewLease, TAKE_BATCH, takeBatch } from "./redis-leases.js";

// Keys, under ns = `<prefix>:presence:` (tenant ids cannot contain `/`, so `tenant/name` is unambiguous):
//   ns c:<tenant>/<user>        HASH connection id -> {"o": owner, "c": PresenceConnection}
//   ns call:<tenant>/<user>     "1" while the user is in a call (not leased: the call service clears it)
//   ns v:<tenant>/<resource>    HASH connection id -> {"o": owner, "v": PresenceViewer}
//   ns vc:<tenant>/<connection> SET of resources the connection views
//   ns own:<owner>, leases, renewed: see redis-leases.ts; references are ["c", tenant, user, connection]
//   and ["v", tenant, resource, connection].
const COMMON = `${LEASE_LUA}
local function connKey(t, u) return ns .. 'c:' .. t .. '/' .. u end
local function viewKey(t, r) return ns .. 'v:' .. t .. '/' .. r end
local function viewedKey(t, c) return ns .. 'vc:' .. t .. '/' .. c end
local function ownerOf(raw) if raw then return cjson.decode(raw).o end end
local function dropConnection(t, u, c)
  local raw = redis.call('HGET', connKey(t, u), c)
  if not raw then return nil end
  redis.call('HDEL', connKey(t, u), c)
  disown(ownerOf(raw), cjson.encode({'c', t, u, c}))
  return raw
end
local function dropViewer(t, r, c)
  local raw = redis.call('HGET', viewKey(t, r), c)
  if not raw then return nil end
  redis.call('HDEL', viewKey(t, r), c)
  redis.call('SREM', viewedKey(t, c), r)
  disown(ownerOf(raw), cjson.encode({'v', t, r, c}))
  return raw
end
`;

// ARGV: ns, tenant, user, connection, entry JSON, owner, lease end, now
const ADD_CONNECTION = `${COMMON}
local t, u, c, owner = ARGV[2], ARGV[3], ARGV[4], ARGV[6]
local previous = redis.call('HGET', connKey(t, u), c)
if previous then disown(ownerOf(previous), cjson.encode({'c', t, u, c})) end
redis.call('HSET', connKey(t, u), c, ARGV[5])
own(owner, cjson.encode({'c', t, u, c}))
holdLease(owner, tonumber(ARGV[7]), ARGV[8])
return 1`;

// ARGV: ns, tenant, user, connection, owner ("" = any)
const REMOVE_CONNECTION = `${COMMON}
if ARGV[5] ~= '' and ownerOf(redis.call('HGET', connKey(ARGV[2], ARGV[3]), ARGV[4])) ~= ARGV[5] then return 0 end
return dropConnection(ARGV[2], ARGV[3], ARGV[4]) and 1 or 0`;

// ARGV: ns, tenant, user, connection, "1" | "0"
const SET_IDLE = `${COMMON}
local raw = redis.call('HGET', connKey(ARGV[2], ARGV[3]), ARGV[4])
if not raw then return 0 end
local entry = cjson.decode(raw)
entry.c.idle = ARGV[5] == '1'
redis.call('HSET', connKey(ARGV[2], ARGV[3]), ARGV[4], cjson.encode(entry))
return 1`;

// ARGV: ns, tenant, resource, connection, entry JSON, owner, lease end, now
const ADD_VIEWER = `${COMMON}
local t, r, c, owner = ARGV[2], ARGV[3], ARGV[4], ARGV[6]
holdLease(owner, tonumber(ARGV[7]), ARGV[8])
-- Viewing again keeps the original entry (and its since).
if redis.call('HEXISTS', viewKey(t, r), c) == 1 then return 0 end
redis.call('HSET', viewKey(t, r), c, ARGV[5])
redis.call('SADD', viewedKey(t, c), r)
own(owner, cjson.encode({'v', t, r, c}))
return 1`;

// ARGV: ns, tenant, resource, connection
const REMOVE_VIEWER = `${COMMON}
return dropViewer(ARGV[2], ARGV[3], ARGV[4])`;

// ARGV: ns, tenant, connection; returns [resource, entry JSON, ...]
const REMOVE_VIEWER_EVERYWHERE = `${COMMON}
local t, c = ARGV[2], ARGV[3]
local out = {}
for _, r in ipairs(redis.call('SMEMBERS', viewedKey(t, c))) do
  local raw = dropViewer(t, r, c)
  if raw then table.insert(out, r); table.insert(out, raw) end
end
redis.call('DEL', viewedKey(t, c))
return out`;

// ARGV: ns, now, max; returns [references popped, JSON [[kind, tenant, name, entry JSON, renewed ms], ...]]
const TAKE_EXPIRED = `${COMMON}
local out = {}
local taken = takeExpired(tonumber(ARGV[2]), tonumber(ARGV[3]), function(ref, owner, renewed)
  local r = cjson.decode(ref)
  local raw
  if r[1] == 'c' then raw = dropConnection(r[2], r[3], r[4]) else raw = dropViewer(r[2], r[3], r[4]) end
  if raw then table.insert(out, {r[1], r[2], r[3], raw, renewed}) end
end)
return {taken, cjson.encode(out)}`;

interface StoredConnection {
  o: string;
  c: PresenceConnection;
}

interface StoredViewer {
  o: string;
  v: PresenceViewer;
}

export interface RedisPresenceStoreOptions {
  redis: Redis;
  /** `REDIS_PREFIX`: every key lives under `<prefix>:presence:`. */
  prefix: string;
}

/**
 * The PresenceStore shared by every node (Redis). Each mutation is one Lua
 * script, so it is atomic on its own; `takeExpired` pops a stopped node's
 * entries inside a script, so each is handed to exactly one sweeping node.
 * Leases are kept per owner (node id + this instance's incarnation), not per
 * entry: renewing is one command however many connections a node holds.
 */
export class RedisPresenceStore implements PresenceStore {
  private readonly ns: string;
  private readonly redis: Redis;
  /** This instance's owner id per node id (one in a server; tests add entries "for" other nodes). */
  private readonly owners = new Map<string, string>();
  private readonly removals = new PendingRemovals();
  private readonly scripts: Record<"addConnection" | "removeConnection" | "setIdle" | "addViewer" | "removeViewer" | "removeViewerEverywhere" | "takeExpired", LuaScript>;

  constructor(options: RedisPresenceStoreOptions) {
    this.redis = options.redis;
    this.ns = `${options.prefix}:presence:`;
    const script = (source: string) => new LuaScript(this.redis, source);
    this.scripts = {
      addConnection: script(ADD_CONNECTION),
      removeConnection: script(REMOVE_CONNECTION),
      setIdle: script(SET_IDLE),
      addViewer: script(ADD_VIEWER),
      removeViewer: script(REMOVE_VIEWER),
      removeViewerEverywhere: script(REMOVE_VIEWER_EVERYWHERE),
      takeExpired: script(TAKE_EXPIRED),
    };
  }

  async addConnection(tenantId: string, connection: PresenceConnection, leaseMs: number): Promise<void> {
    const owner = this.owner(connection.nodeId);
    const entry: StoredConnection = { o: owner, c: connection };
    const now = Date.now();
    await this.scripts.addConnection.run([this.ns, tenantId, connection.userId, connection.connectionId, JSON.stringify(entry), owner, now + leaseMs, now]);
  }

  async removeConnection(tenantId: string, userId: string, connectionId: string, nodeId?: string): Promise<boolean> {
    // The owner is per node and process: an entry this process added, not one of a recovered session elsewhere.
    const args = [this.ns, tenantId, userId, connectionId, nodeId === undefined ? "" : this.owner(nodeId)];
    return (await this.removals.run(`c ${args.join("\n")}`, () => this.scripts.removeConnection.run(args))) === 1;
  }

  async setIdle(tenantId: string, userId: string, connectionId: string, idle: boolean): Promise<boolean> {
    return (await this.scripts.setIdle.run([this.ns, tenantId, userId, connectionId, idle ? "1" : "0"])) === 1;
  }

  async users(tenantId: string, userIds: readonly string[]): Promise<Map<string, LiveUserState>> {
    const result = new Map<string, LiveUserState>();
    if (userIds.length === 0) return result;
    // One MULTI: a consistent picture of every named user.
    const multi = this.redis.multi();
    for (const userId of userIds) multi.hvals(`${this.ns}c:${tenantId}/${userId}`).exists(`${this.ns}call:${tenantId}/${userId}`);
    const replies = await redisCall(() => multi.exec());
    userIds.forEach((userId, i) => {
      const [connErr, raw] = replies?.[2 * i] ?? [];
      const [callErr, inCall] = replies?.[2 * i + 1] ?? [];
      if (connErr || callErr) throw connErr ?? callErr;
      const connections = (raw as string[]).map((json) => (JSON.parse(json) as StoredConnection).c).sort(byConnectedAt);
      if (connections.length === 0 && inCall !== 1) return;
      result.set(userId, { connections, inCall: inCall === 1 });
    });
    return result;
  }

  async setInCall(tenantId: string, userId: string, inCall: boolean): Promise<void> {
    const key = `${this.ns}call:${tenantId}/${userId}`;
    await redisCall<unknown>(() => (inCall ? this.redis.set(key, "1") : this.redis.del(key)));
  }

  async addViewer(tenantId: string, resource: string, viewer: PresenceViewer, leaseMs: number): Promise<void> {
    const owner = this.owner(viewer.nodeId);
    const entry: StoredViewer = { o: owner, v: viewer };
    const now = Date.now();
    await this.scripts.addViewer.run([this.ns, tenantId, resource, viewer.connectionId, JSON.stringify(entry), owner, now + leaseMs, now]);
  }

  async removeViewer(tenantId: string, resource: string, connectionId: string): Promise<PresenceViewer | undefined> {
    const args = [this.ns, tenantId, resource, connectionId];
    const raw = await this.removals.run(`v ${args.join("\n")}`, () => this.scripts.removeViewer.run(args));
    return typeof raw === "string" ? (JSON.parse(raw) as StoredViewer).v : undefined;
  }

  async removeViewerEverywhere(tenantId: string, connectionId: string): Promise<{ resource: string; viewer: PresenceViewer }[]> {
    const args = [this.ns, tenantId, connectionId];
    const flat = (await this.removals.run(`ve ${args.join("\n")}`, () => this.scripts.removeViewerEverywhere.run(args))) as string[];
    const removed: { resource: string; viewer: PresenceViewer }[] = [];
    for (let i = 0; i < flat.length; i += 2) removed.push({ resource: flat[i]!, viewer: (JSON.parse(flat[i + 1]!) as StoredViewer).v });
    return removed;
  }

  async viewers(tenantId: string, resource: string): Promise<PresenceViewer[]> {
    const raw = await redisCall(() => this.redis.hvals(`${this.ns}v:${tenantId}/${resource}`));
    return raw.map((json) => (JSON.parse(json) as StoredViewer).v).sort((a, b) => a.since.localeCompare(b.since) || a.connectionId.localeCompare(b.connectionId));
  }

  async renew(nodeId: string, leaseMs: number): Promise<void> {
    await this.removals.flush();
    await renewLease(this.redis, this.ns, this.owner(nodeId), leaseMs);
  }

  async takeExpired(now: number): Promise<ExpiredEntries> {
    const expired: ExpiredEntries = { connections: [], viewers: [] };
    for (;;) {
      const [taken, batch] = await takeBatch<[string, string, string, string, number]>(this.scripts.takeExpired, [this.ns, now, TAKE_BATCH]);
      for (const [kind, tenantId, name, raw, renewed] of batch) {
        if (kind === "c") {
          expired.connections.push({ tenantId, connection: (JSON.parse(raw) as StoredConnection).c, lastRenewedAt: new Date(renewed).toISOString() });
        } else {
          expired.viewers.push({ tenantId, resource: name, viewer: (JSON.parse(raw) as StoredViewer).v });
        }
      }
      if (taken < TAKE_BATCH) break;
    }
    return expired;
  }

  private owner(nodeId: string): string {
    let owner = this.owners.get(nodeId);
    if (!owner) this.owners.set(nodeId, (owner = ownerId(nodeId)));
    return owner;
  }
}

function byConnectedAt(a: PresenceConnection, b: PresenceConnection): number {
  return a.connectedAt.localeCompare(b.connectedAt) || a.connectionId.localeCompare(b.connectionId);
}
