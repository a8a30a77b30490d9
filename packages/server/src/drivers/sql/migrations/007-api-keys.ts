import type { Migration } from "../migrations.js";

/**
 * API keys created with `switchboard keys create`: only the SHA-256 of a key is
 * stored, so the database never holds a usable key. (Keys in `API_KEYS` live in
 * the environment and are never written here.)
 */
export const migration007: Migration = {
  version: 7,
  name: "api_keys",
  sql: `
    create table api_keys (
      id uuid primary key,
      tenant_id text not null,
      name text not null,
      key_hash text not null unique,
      created_at timestamptz not null,
      revoked_at timestamptz
    );
    create index api_keys_tenant on api_keys (tenant_id);
  `,
};
