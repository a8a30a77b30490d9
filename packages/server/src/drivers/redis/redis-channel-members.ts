import type { Redis } from "ioredis";
import type { ChannelMember, ChannelMembers, ExpiredMember, MemberAdded, MemberRemoved } from "../../ports/channel-members.js";
import { LEASE_LUA, LuaScript, ownerId, PendingRemovals, redisCall, renewLease, TAKE_BATCH, takeBatch } from "./redis-leases.js";

// Keys, under ns = `<prefix>:members:` (tenant ids cannot contain `/`):
//   ns m:<tenant>/<channel>    HASH user -> {"m": ChannelMember, "t": first join ms}
//   ns n:<tenant>/<channel>    HASH user -> how many of the user's connections are in the channel
//   ns k:<tenant>/<connection> HASH channel -> user, and "" -> owner (channel names are never empty)
//   ns own:<owner>, leases, renewed: see redis-leases.ts; references are [tenant, connection].
const COMMON = `${LEASE_LUA}
local function membersKey(t, ch) return ns .. 'm:' .. t .. '/' .. ch end
local function countKey(t, ch) return ns .. 'n:' .. t .. '/' .. ch end
local function connKey(t, c) return ns .. 'k:' .. t .. '/' .. c end
-- Takes connection c out of channel ch; returns the member JSON when it was the user's last connection there.
local function leave(t, ch, c)
  local u = redis.call('HGET', connKey(t, c), ch)
  if not u then return false end
  redis.call('HDEL', connKey(t, c), ch)
  if redis.call('HINCRBY', countKey(t, ch), u, -1) > 0 then return false end
  redis.call('HDEL', countKey(t, ch), u)
  local raw = redis.call('HGET', membersKey(t, ch), u)
  redis.call('HDEL', membersKey(t, ch), u)
  return raw or false
end
local function leaveAll(t, c, out)
  for _, ch in ipairs(redis.call('HKEYS', connKey(t, c))) do
    if ch ~= '' then
      local raw = leave(t, ch, c)
      if raw then table.insert(out, {t, ch, raw}) end
    end
  end
  local owner = redis.call('HGET', connKey(t, c), '')
  redis.call('DEL', connKey(t, c))
  disown(owner, cjson.encode({t, c}))
end
`;

// ARGV: ns, tenant, channel, connection, user, member JSON, owner, lease end, now
const ADD = `${COMMON}
local t, ch, c, u, owner = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[7]
if redis.call('HEXISTS', connKey(t, c), ch) == 1 then return 0 end
redis.call('HSET', connKey(t, c), ch, u, '', owner)
own(owner, cjson.encode({t, c}))
holdLease(owner, tonumber(ARGV[8]), ARGV[9])
if redis.call('HINCRBY', countKey(t, ch), u, 1) > 1 then return 0 end
redis.call('HSET', membersKey(t, ch), u, ARGV[6])
return 1`;

// ARGV: ns, tenant, channel, connection
const REMOVE = `${COMMON}
local raw = leave(ARGV[2], ARGV[3], ARGV[4])
if redis.call('HLEN', connKey(ARGV[2], ARGV[4])) <= 1 then
  local owner = redis.call('HGET', connKey(ARGV[2], ARGV[4]), '')
  redis.call('DEL', connKey(ARGV[2], ARGV[4]))
  disown(owner, cjson.encode({ARGV[2], ARGV[4]}))
end
return raw`;

// ARGV: ns, tenant, connection
const REMOVE_CONNECTION = `${COMMON}
local out = {}
leaveAll(ARGV[2], ARGV[3], out)
return cjson.encode(out)`;

// ARGV: ns, now, max
const TAKE_EXPIRED = `${COMMON}
local out = {}
local taken = takeExpired(tonumber(ARGV[2]), tonumber(ARGV[3]), function(ref)
  local r = cjson.decode(ref)
  leaveAll(r[1], r[2], out)
end)
return {taken, cjson.encode(out)}`;

interface StoredMember {
  m: ChannelMember;
  t: number;
}

export interface RedisChannelMembersOptions {
  redis: Redis;
  /** `REDIS_PREFIX`: keys live under `<prefix>:members:`. */
  prefix: string;
  nodeId: string;
  /** Lease of this node's entries (`NODE_LEASE_MS`). */
  leaseMs: number;
}

/**
 * Channel members shared by every node (Redis). Each method is one Lua script;
 * the per-user connection count makes first join and last leave exact across
 * nodes, so `room:userJoined` / `room:userLeft` (and Pusher `member_added` /
 * `member_removed`) are announced once.
 */
export class RedisChannelMembers implements ChannelMembers {
  private readonly ns: string;
  private readonly owner: string;
  private readonly removals = new PendingRemovals();
  private readonly scripts: Record<"add" | "remove" | "removeConnection" | "takeExpired", LuaScript>;

  constructor(private readonly options: RedisChannelMembersOptions) {
    this.ns = `${options.prefix}:members:`;
    this.owner = ownerId(options.nodeId);
    const script = (source: string) => new LuaScript(options.redis, source);
    this.scripts = { add: script(ADD), remove: script(REMOVE), removeConnection: script(REMOVE_CONNECTION), takeExpired: script(TAKE_EXPIRED) };
  }

  async add(tenantId: string, channel: string, connectionId: string, member: ChannelMember): Promise<MemberAdded> {
    const now = Date.now();
    const stored: StoredMember = { m: member, t: now };
    const added = await this.scripts.add.run([this.ns, tenantId, channel, connectionId, member.userId, JSON.stringify(stored), this.owner, now + this.options.leaseMs, now]);
    return { firstJoin: added === 1 };
  }

  async remove(tenantId: string, channel: string, connectionId: string): Promise<MemberRemoved> {
    const args = [this.ns, tenantId, channel, connectionId];
    const raw = await this.removals.run(`r ${args.join("\n")}`, () => this.scripts.remove.run(args));
    return typeof raw === "string" ? { lastLeave: true, member: (JSON.parse(raw) as StoredMember).m } : { lastLeave: false };
  }

  async list(tenantId: string, channel: string): Promise<ChannelMember[]> {
    const raw = await redisCall(() => this.options.redis.hvals(`${this.ns}m:${tenantId}/${channel}`));
    return raw
      .map((json) => JSON.parse(json) as StoredMember)
      .sort((a, b) => a.t - b.t || a.m.userId.localeCompare(b.m.userId))
      .map((stored) => stored.m);
  }

  async count(tenantId: string, channel: string): Promise<number> {
    return redisCall(() => this.options.redis.hlen(`${this.ns}m:${tenantId}/${channel}`));
  }

  async removeConnection(tenantId: string, connectionId: string): Promise<{ channel: string; member: ChannelMember }[]> {
    const args = [this.ns, tenantId, connectionId];
    const gone = parseList((await this.removals.run(`rc ${args.join("\n")}`, () => this.scripts.removeConnection.run(args))) as string);
    return gone.map(({ channel, member }) => ({ channel, member }));
  }

  async renew(): Promise<void> {
    await this.removals.flush();
    await renewLease(this.options.redis, this.ns, this.owner, this.options.leaseMs);
  }

  async takeExpired(now: number): Promise<ExpiredMember[]> {
    const expired: ExpiredMember[] = [];
    for (;;) {
      const [taken, batch] = await takeBatch<[string, string, string]>(this.scripts.takeExpired, [this.ns, now, TAKE_BATCH]);
      expired.push(...batch.map(toExpired));
      if (taken < TAKE_BATCH) return expired;
    }
  }
}

function parseList(json: string): ExpiredMember[] {
  const rows = JSON.parse(json) as [string, string, string][] | Record<string, never>;
  return Array.isArray(rows) ? rows.map(toExpired) : [];
}

function toExpired([tenantId, channel, raw]: [string, string, string]): ExpiredMember {
  return { tenantId, channel, member: (JSON.parse(raw) as StoredMember).m };
}
