import type { SqlDatabase } from "../../ports/sql-database.js";
import { migration001 } from "./migrations/001-init.js";
import { migration003 } from "./migrations/003-presence.js";
import { migration002 } from "./migrations/002-chat.js";
import { migration004 } from "./migrations/004-calls.js";
import { migration005 } from "./migrations/005-webhooks.js";
import { migration006 } from "./migrations/006-notifications.js";
import { migration007 } from "./migrations/007-api-keys.js";
import { migration008 } from "./migrations/008-crisis-alerts.js";
import { migration009 } from "./migrations/009-audit-log.js";
import { migration010 } from "./migrations/010-push-endpoint.js";

/** One forward-only schema change. Never edit a released one: add the next. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Every migration, in order. */
export const MIGRATIONS: readonly Migration[] = [migration001, migration002, migration003, migration004, migration005, migration006, migration007, migration008, migration009, migration010];

/** Arbitrary constant naming Switchboard's migration lock among other advisory locks. */
const MIGRATION_LOCK_KEY = 7_346_221_001;

/**
 * Applies pending migrations, each in its own transaction. On Postgres, several
 * nodes starting at once serialize on a transaction-scoped advisory lock, so each
 * migration runs exactly once. Returns the versions applied now.
 */
export async function migrate(db: SqlDatabase, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  // Even "if not exists" races between concurrent sessions, so the bookkeeping table is created under the lock too.
  await db.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
    await tx.query(`create table if not exists schema_migrations (
      version integer primary key,
      name text not null,
      applied_at timestamptz not null default now()
    )`);
  });
  const applied: number[] = [];
  for (const migration of migrations) {
    const ran = await db.transaction(async (tx) => {
      await tx.query("select pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
      const { rows } = await tx.query("select 1 from schema_migrations where version = $1", [migration.version]);
      if (rows.length > 0) return false;
      await tx.exec(migration.sql);
      await tx.query("insert into schema_migrations (version, name) values ($1, $2)", [migration.version, migration.name]);
      return true;
    });
    if (ran) applied.push(migration.version);
  }
  return applied;
}
