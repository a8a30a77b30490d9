import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

export const PG_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** Environment for a Switchboard under test on a fresh store, and the cleanup that removes it. */
export interface BenchDatabase {
  env: Record<string, string>;
  drop(): Promise<void>;
}

/**
 * A fresh store per run: a new schema in Postgres (DATABASE_URL, default the
 * local `test` database), or a new PGlite data directory. Runs never see each
 * other's data.
 */
export async function benchDatabase(kind: "postgres" | "pglite", poolSize = 20): Promise<BenchDatabase> {
  if (kind === "postgres") {
    const schema = `bench_${Date.now()}_${process.pid}`;
    return {
      env: { DATABASE_URL: PG_URL, DATABASE_SCHEMA: schema, DATABASE_POOL_SIZE: String(poolSize) },
      async drop() {
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        await client.query(`drop schema if exists "${schema}" cascade`);
        await client.end();
      },
    };
  }
  const dataDir = await mkdtemp(join(tmpdir(), "switchboard-bench-"));
  return { env: { DATA_DIR: dataDir }, drop: () => rm(dataDir, { recursive: true, force: true }) };
}
