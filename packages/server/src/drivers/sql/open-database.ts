import type { Config } from "../../config/config.js";
import type { SqlDatabase } from "../../ports/sql-database.js";
import { PgDatabase } from "./pg-database.js";
import { PgliteDatabase } from "./pglite-database.js";
import { PgliteTemplate, defaultTemplateDir } from "./pglite-template.js";

/** Postgres when `DATABASE_URL` is set, embedded PGlite otherwise. */
export function openDatabase(config: Config["database"]): Promise<SqlDatabase> {
  if (config.url) return PgDatabase.open({ url: config.url, schema: config.schema, maxConnections: config.poolSize, queryTimeoutMs: config.queryTimeoutMs });
  const templateDir = config.templateDir === "off" ? undefined : (config.templateDir ?? defaultTemplateDir());
  return PgliteDatabase.open(config.dataDir, new PgliteTemplate(templateDir));
}
