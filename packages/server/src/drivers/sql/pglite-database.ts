import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { DependencyUnavailableError } from "../../ports/errors.js";
import type { SqlDatabase, SqlExecutor } from "../../ports/sql-database.js";
import { lockDataDir } from "./data-dir-lock.js";
import { PgliteTemplate } from "./pglite-template.js";

/**
 * Embedded Postgres (PGlite, WASM) for the zero-setup single process. PGlite runs
 * one statement at a time; it queues concurrent callers itself, and a
 * transaction holds the connection until it ends.
 */
export class PgliteDatabase implements SqlDatabase {
  readonly kind = "pglite" as const;

  private constructor(
    private readonly db: PGlite,
    private readonly unlock: () => Promise<void>,
  ) {}

  /**
   * Opens (creating when needed) the database in `dataDir`; `:memory:` keeps it
   * in memory. A directory is held by one process at a time (see
   * {@link lockDataDir}): another process's open is refused while this is open.
   * A new database starts from `template` (see {@link PgliteTemplate}); the
   * default has none, and runs PGlite's `initdb`.
   */
  static async open(dataDir: string, template = new PgliteTemplate(undefined)): Promise<PgliteDatabase> {
    if (dataDir === ":memory:") return new PgliteDatabase(await template.create(undefined), async () => {});
    await mkdir(dataDir, { recursive: true });
    const unlock = await lockDataDir(dataDir);
    try {
      return new PgliteDatabase(await template.create(dataDir), unlock);
    } catch (err) {
      await unlock();
      throw err;
    }
  }

  async query<T>(text: string, params?: unknown[]): Promise<{ rows: T[] }> {
    this.assertOpen();
    const result = await this.db.query<T>(text, params);
    return { rows: result.rows };
  }

  /** A closed embedded database (stopping) is an outage, not a bug. */
  private assertOpen(): void {
    if (this.db.closed) throw new DependencyUnavailableError("database");
  }

  async exec(script: string): Promise<void> {
    this.assertOpen();
    await this.db.exec(script);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    this.assertOpen();
    return this.db.transaction((tx) =>
      fn({
        async query<R>(text: string, params?: unknown[]) {
          const result = await tx.query<R>(text, params);
          return { rows: result.rows };
        },
        async exec(script: string) {
          await tx.exec(script);
        },
      }),
    );
  }

  async ping(): Promise<void> {
    await this.query("select 1");
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
    await this.unlock();
  }
}
