export interface StoredApiKey {
  id: string;
  tenantId: string;
  name: string;
  createdAt: string;
  revokedAt: string | null;
}

/**
 * Stored API keys, by SHA-256 hex digest only.
 *
 * Contract: `tenantOf` answers for unrevoked keys only; revocation takes effect
 * on the next request.
 */
export interface ApiKeyStore {
  create(input: { id: string; tenantId: string; name: string; keyHash: string; now: Date }): Promise<void>;
  tenantOf(keyHash: string): Promise<string | undefined>;
  list(tenantId?: string): Promise<StoredApiKey[]>;
  revoke(id: string, now: Date): Promise<boolean>;
}
