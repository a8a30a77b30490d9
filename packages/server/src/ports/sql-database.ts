/** Runs one statement with `$1..$n` parameters. */
export interface SqlExecutor {
  /**
   * `options.prepare` names a hot statement so drivers that can keep it prepared
   * per connection do (Postgres: parsed and planned once, not on every call).
   */
  query<T = Record<string, unknown>>(text: string, params?: unknown[], options?: { prepare?: string }): Promise<{ rows: T[] }>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

/**
 * A Postgres-dialect database: embedded PGlite or a real Postgres server, with
 * the same migrations and the same queries.
 *
 * Contract: a resolved `query` or `transaction` is durable (committed); a
 * failure to reach the database rejects with an error the caller maps to
 * `unavailable`.
 */
export interface SqlDatabase extends SqlExecutor {
  readonly kind: "pglite" | "postgres";
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
