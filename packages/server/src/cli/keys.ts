import { createHash, randomBytes, randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { TENANT_PATTERN } from "@switchboard/protocol";
import type { Config } from "../config/config.js";
import { migrate } from "../drivers/sql/migrations.js";
import { openDatabase } from "../drivers/sql/open-database.js";
import { SqlApiKeyStore } from "../drivers/sql/sql-api-key-store.js";

/**
 * `switchboard keys create --tenant acme [--name backend]`: prints a new key
 * once and stores only its SHA-256; `keys list [--tenant acme]`; `keys revoke --id <id>`.
 * Uses the configured database (DATABASE_URL or DATA_DIR), like the server. The
 * embedded PGlite database belongs to one process at a time: with DATA_DIR, run
 * these while the server is stopped (with Postgres, any time).
 */
export async function keysCommand(args: string[], config: Config, out: (text: string) => void): Promise<number> {
  const [sub, ...flags] = args;
  const { values } = parseArgs({ args: flags, options: { tenant: { type: "string" }, name: { type: "string" }, id: { type: "string" } } });
  const db = await openDatabase(config.database);
  try {
    await migrate(db);
    const store = new SqlApiKeyStore(db);
    if (sub === "create") {
      if (!values.tenant || !TENANT_PATTERN.test(values.tenant)) throw new Error("--tenant <id> is required (1-64 of A-Z a-z 0-9 _ . -)");
      const key = `sbk_${randomBytes(24).toString("base64url")}`;
      const id = randomUUID();
      await store.create({ id, tenantId: values.tenant, name: values.name ?? "default", keyHash: createHash("sha256").update(key).digest("hex"), now: new Date() });
      out(`API key for tenant ${values.tenant} (id ${id}). It is shown only now; store it safely:\n${key}\n`);
      return 0;
    }
    if (sub === "list") {
      for (const k of await store.list(values.tenant)) out(`${k.id}  ${k.tenantId}  ${k.name}  created ${k.createdAt}${k.revokedAt ? `  revoked ${k.revokedAt}` : ""}\n`);
      return 0;
    }
    if (sub === "revoke") {
      if (!values.id) throw new Error("--id <key id> is required");
      if (!(await store.revoke(values.id, new Date()))) throw new Error(`no key with id ${values.id}`);
      out(`revoked ${values.id}\n`);
      return 0;
    }
    throw new Error('the subcommands are "create", "list" and "revoke"');
  } finally {
    await db.close();
  }
}
