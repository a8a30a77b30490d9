import type { Redis } from "ioredis";
import type { ChannelOccupancy, OccupancyAdded, OccupancyRemoved } from "../../ports/channel-occupancy.js";
import { LEASE_LUA, LuaScript, ownerId, PendingRemovals, redisCall, renewLease, TAKE_BATCH, takeBatch } from "./redis-leases.js";

// Keys, under ns = `<prefix>:occupancy:` (tenant ids cannot contain `/`):
//   ns s:<tenant>/<name>       SET of subscribed connection ids
//   ns names:<tenant>          SET of occupied names
//   ns k:<tenant>/<connection> HASH name -> "1", and "" -> owner
//   ns own:<owner>, leases, renewed: see redis-leases.ts; references are [tenant, connection].
const COMMON = `${LEASE_LUA}
local function subsKey(t, name) return ns .. 's:' .. t .. '/' .. name end
local function namesKey(t) return ns .. 'names:' .. t end
local function connKey(t, c) return ns .. 'k:' .. t .. '/' .. c end
-- Takes connection c out of name; true when that vacated the name.
local function unsubscribe(t, name, c)
  if redis.call('SREM', subsKey(t, name), c) == 0 then return false end
  redis.call('HDEL', connKey(t, c), name)
  if redis.call('SCARD', subsKey(t, name)) > 0 then return false end
  redis.call('SREM', namesKey(t), name)
  return true
end
local function unsubscribeAll(t, c, out)
  for _, name in ipairs(redis.call('HKEYS', connKey(t, c))) do
    if name ~= '' and unsubscribe(t, name, c) then table.insert(out, {t, name}) end
  end
  local owner = redis.call('HGET', connKey(t, c), '')
  redis.call('DEL', connKey(t, c))
  disown(owner, cjson.encode({t, c}))
end
`;

// ARGV: ns, tenant, name, connection, owner, lease end, now
const ADD = `${COMMON}
local t, name, c, owner = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if redis.call('SADD', subsKey(t, name), c) == 0 then return 0 end
redis.call('HSET', connKey(t, c), name, '1', '', owner)
own(owner, cjson.encode({t, c}))
holdLease(owner, tonumber(ARGV[6]), ARGV[7])
if redis.call('SCARD', subsKey(t, name)) > 1 then return 0 end
redis.call('SADD', namesKey(t), name)
return 1`;

// ARGV: ns, tenant, name, connection
const REMOVE = `${COMMON}
local vacated = unsubscribe(ARGV[2], ARGV[3], ARGV[4])
if redis.call('HLEN', connKey(ARGV[2], ARGV[4])) <= 1 then
  local owner = redis.call('HGET', connKey(ARGV[2], ARGV[4]), '')
  redis.call('DEL', connKey(ARGV[2], ARGV[4]))
  disown(owner, cjson.encode({ARGV[2], ARGV[4]}))
end
return vacated and 1 or 0`;

// ARGV: ns, tenant, connection
const REMOVE_CONNECTION = `${COMMON}
local out = {}
unsubscribeAll(ARGV[2], ARGV[3], out)
return cjson.encode(out)`;

// ARGV: ns, tenant, prefix; returns [name, count, ...]
const LIST = `${COMMON}
local out = {}
for _, name in ipairs(redis.call('SMEMBERS', namesKey(ARGV[2]))) do
  if string.sub(name, 1, #ARGV[3]) == ARGV[3] then
    table.insert(out, name)
    table.insert(out, redis.call('SCARD', subsKey(ARGV[2], name)))
  end
end
return out`;

// ARGV: ns, now, max
const TAKE_EXPIRED = `${COMMON}
local out = {}
local taken = takeExpired(tonumber(ARGV[2]), tonumber(ARGV[3]), function(ref)
  local r = cjson.decode(ref)
  unsubscribeAll(r[1], r[2], out)
end)
return {taken, cjson.encode(out)}`;

export interface RedisChannelOccupancyOptions {
  redis: Redis;
  /** `REDIS_PREFIX`: keys live under `<prefix>:occupancy:`. */
  prefix: string;
  nodeId: string;
  /** Lease of this node's subscriptions (`NODE_LEASE_MS`). */
  leaseMs: number;
}

/**
 * Subscription counts shared by every node (Redis), one Lua script per
 * change, so `channel_occupied` / `channel_vacated` are decided once across
 * nodes and the Pusher channel queries count every node's subscribers.
 */
export class RedisChannelOccupancy implements ChannelOccupancy {
  private readonly ns: string;
  private readonly owner: string;
  private readonly removals = new PendingRemovals();
  private readonly scripts: Record<"add" | "remove" | "removeConnection" | "list" | "takeExpired", LuaScript>;

  constructor(private readonly options: RedisChannelOccupancyOptions) {
    this.ns = `${options.prefix}:occupancy:`;
    this.owner = ownerId(options.nodeId);
    const script = (source: string) => new LuaScript(options.redis, source);
    this.scripts = { add: script(ADD), remove: script(REMOVE), removeConnection: script(REMOVE_CONNECTION), list: script(LIST), takeExpired: script(TAKE_EXPIRED) };
  }

  async add(tenantId: string, name: string, connectionId: string): Promise<OccupancyAdded> {
    const now = Date.now();
    return { occupied: (await this.scripts.add.run([this.ns, tenantId, name, connectionId, this.owner, now + this.options.leaseMs, now])) === 1 };
  }

  async remove(tenantId: string, name: string, connectionId: string): Promise<OccupancyRemoved> {
    const args = [this.ns, tenantId, name, connectionId];
    return { vacated: (await this.removals.run(`r ${args.join("\n")}`, () => this.scripts.remove.run(args))) === 1 };
  }

  async removeConnection(tenantId: string, connectionId: string): Promise<string[]> {
    const args = [this.ns, tenantId, connectionId];
    const raw = await this.removals.run(`rc ${args.join("\n")}`, () => this.scripts.removeConnection.run(args));
    const rows = JSON.parse(raw as string) as [string, string][] | Record<string, never>;
    return Array.isArray(rows) ? rows.map(([, name]) => name) : [];
  }

  count(tenantId: string, name: string): Promise<number> {
    return redisCall(() => this.options.redis.scard(`${this.ns}s:${tenantId}/${name}`));
  }

  async list(tenantId: string, prefix = ""): Promise<Map<string, number>> {
    const flat = (await this.scripts.list.run([this.ns, tenantId, prefix])) as (string | number)[];
    const result = new Map<string, number>();
    for (let i = 0; i < flat.length; i += 2) result.set(String(flat[i]), Number(flat[i + 1]));
    return new Map([...result].sort(([a], [b]) => a.localeCompare(b)));
  }

  async renew(): Promise<void> {
    await this.removals.flush();
    await renewLease(this.options.redis, this.ns, this.owner, this.options.leaseMs);
  }

  async takeExpired(now: number): Promise<{ tenantId: string; name: string }[]> {
    const vacated: { tenantId: string; name: string }[] = [];
    for (;;) {
      const [taken, batch] = await takeBatch<[string, string]>(this.scripts.takeExpired, [this.ns, now, TAKE_BATCH]);
      vacated.push(...batch.map(([tenantId, name]) => ({ tenantId, name })));
      if (taken < TAKE_BATCH) return vacated;
    }
  }
}
