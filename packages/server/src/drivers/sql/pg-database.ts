import pg from "pg";
import { DependencyUnavailableError } from "../../ports/errors.js";
import type { SqlDatabase, SqlExecutor } from "../../ports/sql-database.js";

/** SQLSTATE classes 08 (connection exception) and 57P (operator intervention: shutdown, crash). */
const OUTAGE_SQLSTATE = /^(08|57P)/;
const OUTAGE_ERRNO = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH"]);

/** True when the error means Postgres could not be reached or dropped the connection. */
function isOutage(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === "string" && (OUTAGE_SQLSTATE.test(code) || OUTAGE_ERRNO.has(code))) return true;
  return typeof message === "string" && /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|pool after calling end/i.test(message);
}

function translate(err: unknown): unknown {
  return isOutage(err) ? new DependencyUnavailableError("database", { cause: err }) : err;
}

export interface PgDatabaseOptions {
  url: string;
  /** Schema for Switchboard's tables; created when missing and put first on the search_path. */
  schema: string;
  maxConnections?: number;
  /** Client-side limit on waiting for an answer: a partitioned network fails the query instead of hanging it (0 = none). */
  queryTimeoutMs?: number;
}

/** Arbitrary constant naming the schema-creation lock among other advisory locks. */
const SCHEMA_LOCK_KEY = 7_346_221_000;

/** Real Postgres through a `pg` connection pool. */
export class PgDatabase implements SqlDatabase {
  readonly kind = "postgres" as const;

  private constructor(private readonly pool: pg.Pool) {}

  static async open(options: PgDatabaseOptions): Promise<PgDatabase> {
    // The schema must exist before pooled connections put it on their search_path. Nodes
    // starting together would race on "create schema if not exists", hence the lock.
    const setup = new pg.Client({ connectionString: options.url });
    await setup.connect();
    try {
      await setup.query("begin");
      await setup.query("select pg_advisory_xact_lock($1)", [SCHEMA_LOCK_KEY]);
      await setup.query(`create schema if not exists "${options.schema}"`);
      await setup.query("commit");
    } finally {
      await setup.end();
    }
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 10,
      options: `-c search_path="${options.schema}",public`,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
      ...(options.queryTimeoutMs ? { query_timeout: options.queryTimeoutMs } : {}),
    });
    // An idle client losing its connection (server restart) must not crash the process;
    // the pool replaces it and the next query reports any lasting outage.
    pool.on("error", () => {});
    return new PgDatabase(pool);
  }

  async query<T>(text: string, params?: unknown[], options?: { prepare?: string }): Promise<{ rows: T[] }> {
    try {
      const result = options?.prepare
        ? await this.pool.query({ name: options.prepare, text, values: params as unknown[] })
        : await this.pool.query(text, params as unknown[]);
      return { rows: result.rows as T[] };
    } catch (err) {
      throw translate(err);
    }
  }

  async exec(script: string): Promise<void> {
    await this.query(script);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect().catch((err) => {
      throw translate(err);
    });
    // A checked-out client whose connection drops emits "error"; without a listener that would crash
    // the process. The failing query rejects as well, which is what the caller sees.
    let lost: unknown;
    const onError = (err: unknown) => void (lost ??= err);
    client.on("error", onError);
    let failure: unknown;
    try {
      await client.query("begin");
      const result = await fn({
        async query<R>(text: string, params?: unknown[]) {
          const r = await client.query(text, params as unknown[]);
          return { rows: r.rows as R[] };
        },
        async exec(script: string) {
          await client.query(script);
        },
      });
      await client.query("commit");
      return result;
    } catch (err) {
      failure = err;
      if (!lost && !isOutage(err)) await client.query("rollback").catch(() => {});
      throw translate(err);
    } finally {
      client.off("error", onError);
      // A broken connection is destroyed rather than handed to the next caller.
      const broken = lost ?? (isOutage(failure) ? failure : undefined);
      client.release(broken instanceof Error ? broken : broken ? new Error(String(broken)) : undefined);
    }
  }

  async ping(): Promise<void> {
    await this.query("select 1");
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
