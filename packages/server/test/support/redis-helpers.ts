import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { databaseEnv, onCleanup, startServer, testDb } from "./server-harness.js";

export const redisUrl = process.env.REDIS_URL;

/** A fresh key prefix for one test, whose keys are deleted after it. */
export function freshPrefix(): string {
  const prefix = `t${randomBytes(5).toString("hex")}`;
  if (redisUrl) {
    onCleanup(async () => {
      const redis = new Redis(redisUrl);
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 500);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== "0");
      redis.disconnect();
    });
  }
  return prefix;
}

/** A Redis client as the server configures it (fail fast when Redis is away), closed after the test. */
export function testRedis(): Redis {
  if (!redisUrl) throw new Error("REDIS_URL is not set");
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  onCleanup(async () => void redis.disconnect());
  return redis;
}

/**
 * Two nodes of one deployment: same Redis prefix (fresh per test, keys deleted
 * after it) and, in the Postgres project, the same database.
 */
export async function twoNodes(extra: Record<string, string> = {}) {
  const shared = { REDIS_URL: redisUrl!, REDIS_PREFIX: freshPrefix(), ...extra };
  const db = testDb === "postgres" ? databaseEnv() : undefined;
  const a = await startServer({ env: { ...shared, ...db, NODE_ID: "node-a" } });
  const b = await startServer({ env: { ...shared, ...(db ?? {}), ...(db ? {} : { DATA_DIR: ":memory:" }), NODE_ID: "node-b" } });
  return { a, b, prefix: shared.REDIS_PREFIX };
}
