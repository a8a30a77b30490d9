import { createHash, randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { DependencyUnavailableError } from "../../ports/errors.js";

/**
 * Leases shared by the Redis drivers of live state (presence, channel members,
 * channel occupancy). Every entry a node adds is indexed under its *owner*, the
 * node id plus a random incarnation of this driver instance, so a node that
 * restarts under the same `NODE_ID` never renews what its previous life left
 * behind. Per driver namespace `ns` (e.g. `switchboard:presence:`):
 *
 * - `ns leases`  ZSET owner -> lease end (ms since the epoch)
 * - `ns renewed` HASH owner -> last renewal (ms), reported as lastSeen
 * - `ns own:<owner>` SET of entry references (driver-defined JSON) the owner holds
 *
 * Expired owners are emptied by `takeExpired` scripts that pop references with
 * SPOP inside one script, so each entry is handed to exactly one caller.
 * Scripts touch keys they compute themselves: a single Redis (or a
 * primary with replicas / Sentinel) is assumed, not Redis Cluster.
 */
export const LEASE_LUA = `
local ns = ARGV[1]
local function holdLease(owner, untilMs, nowMs)
  local current = tonumber(redis.call('ZSCORE', ns .. 'leases', owner))
  if not current or current < untilMs then redis.call('ZADD', ns .. 'leases', untilMs, owner) end
  -- Any write by the owner is a sign of life (the lastSeen its users get if it stops).
  redis.call('HSET', ns .. 'renewed', owner, nowMs)
end
local function own(owner, ref) redis.call('SADD', ns .. 'own:' .. owner, ref) end
local function disown(owner, ref) if owner then redis.call('SREM', ns .. 'own:' .. owner, ref) end end
-- Pops up to max references of owners whose lease ended before nowMs; calls take(ref, owner, renewedMs) for each.
local function takeExpired(nowMs, max, take)
  local taken = 0
  local owners = redis.call('ZRANGEBYSCORE', ns .. 'leases', '-inf', '(' .. nowMs, 'LIMIT', 0, 16)
  for _, owner in ipairs(owners) do
    local renewed = tonumber(redis.call('HGET', ns .. 'renewed', owner)) or 0
    local set = ns .. 'own:' .. owner
    local refs = redis.call('SPOP', set, max - taken)
    for _, ref in ipairs(refs) do take(ref, owner, renewed) end
    taken = taken + #refs
    if redis.call('SCARD', set) == 0 then
      redis.call('ZREM', ns .. 'leases', owner)
      redis.call('HDEL', ns .. 'renewed', owner)
    end
    if taken >= max then break end
  end
  return taken
end
`;

/** References popped per script run; `takeExpired` loops until a run returns fewer. */
export const TAKE_BATCH = 500;

const RENEW_LUA = `${LEASE_LUA}
redis.call('ZADD', ns .. 'leases', ARGV[3], ARGV[2])
redis.call('HSET', ns .. 'renewed', ARGV[2], ARGV[4])
return 1`;

/** A new owner id for one driver instance (one node process). */
export function ownerId(nodeId: string): string {
  return `${nodeId}#${randomUUID()}`;
}

/**
 * Runs a Lua script (EVALSHA, loading it on first use or after a Redis
 * restart) and turns connection failures into `DependencyUnavailableError`.
 */
export class LuaScript {
  private readonly sha: string;

  constructor(
    private readonly redis: Redis,
    private readonly source: string,
  ) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  async run(args: (string | number)[]): Promise<unknown> {
    try {
      return await this.redis.evalsha(this.sha, 0, ...args);
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith("NOSCRIPT"))) throw unavailable(err);
    }
    try {
      return await this.redis.eval(this.source, 0, ...args);
    } catch (err) {
      throw unavailable(err);
    }
  }
}

/** Runs a Redis command or transaction, mapping failures to `DependencyUnavailableError("redis")`. */
export async function redisCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw unavailable(err);
  }
}

function unavailable(err: unknown): unknown {
  // Script and type errors are bugs and stay as they are; anything about the connection is an outage.
  if (err instanceof Error && /^(ERR|WRONGTYPE)/.test(err.message)) return err;
  return new DependencyUnavailableError("redis", { cause: err });
}

/** Extends one owner's lease to `leaseMs` from now (its entries stay alive). */
export function renewLease(redis: Redis, namespace: string, owner: string, leaseMs: number): Promise<unknown> {
  const now = Date.now();
  return new LuaScript(redis, RENEW_LUA).run([namespace, owner, now + leaseMs, now]);
}

/** Runs one `takeExpired` script: resolves with how many references it popped and the entries it found. */
export async function takeBatch<T>(script: LuaScript, args: (string | number)[]): Promise<[number, T[]]> {
  const [taken, json] = (await script.run(args)) as [number, string];
  const entries = JSON.parse(json) as T[] | Record<string, never>;
  // cjson encodes an empty table as {}.
  return [taken, Array.isArray(entries) ? entries : []];
}

/**
 * Removals that failed because Redis was unreachable. An entry whose removal
 * is lost would be renewed with its node's lease for as long as the node
 * lives (a user online forever), so each failed removal is kept and retried
 * before the next renewal; the caller still sees the failure.
 */
export class PendingRemovals {
  private readonly pending = new Map<string, () => Promise<unknown>>();

  async run<T>(key: string, removal: () => Promise<T>): Promise<T> {
    try {
      return await removal();
    } catch (err) {
      if (err instanceof DependencyUnavailableError) this.pending.set(key, removal);
      throw err;
    }
  }

  /** Retries the kept removals in order; rejects (keeping the rest) while Redis is still away. */
  async flush(): Promise<void> {
    for (const [key, removal] of this.pending) {
      await removal();
      this.pending.delete(key);
    }
  }
}
