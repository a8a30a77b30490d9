import type { ApiKeyStore, StoredApiKey } from "../../ports/api-key-store.js";
import type { SqlDatabase } from "../../ports/sql-database.js";
import { iso } from "./chat-rows.js";

/** API keys on Postgres or PGlite. */
export class SqlApiKeyStore implements ApiKeyStore {
  constructor(private readonly db: SqlDatabase) {}

  async create(input: { id: string; tenantId: string; name: string; keyHash: string; now: Date }): Promise<void> {
    await this.db.query("insert into api_keys (id, tenant_id, name, key_hash, created_at) values ($1, $2, $3, $4, $5)", [input.id, input.tenantId, input.name, input.keyHash, input.now]);
  }

  async tenantOf(keyHash: string): Promise<string | undefined> {
    const { rows } = await this.db.query<{ tenant_id: string }>("select tenant_id from api_keys where key_hash = $1 and revoked_at is null", [keyHash]);
    return rows[0]?.tenant_id;
  }

  async list(tenantId?: string): Promise<StoredApiKey[]> {
    const { rows } = await this.db.query<{ id: string; tenant_id: string; name: string; created_at: Date | string; revoked_at: Date | string | null }>(
      "select id, tenant_id, name, created_at, revoked_at from api_keys where ($1::text is null or tenant_id = $1) order by created_at",
      [tenantId ?? null],
    );
    return rows.map((r) => ({ id: r.id, tenantId: r.tenant_id, name: r.name, createdAt: iso(r.created_at), revokedAt: r.revoked_at ? iso(r.revoked_at) : null }));
  }

  async revoke(id: string, now: Date): Promise<boolean> {
    const { rows } = await this.db.query("update api_keys set revoked_at = coalesce(revoked_at, $2) where id = $1 returning 1", [id, now]);
    return rows.length > 0;
  }
}
