/**
 * The `CORS_ORIGINS` allowlist, shared by HTTP and every WebSocket upgrade.
 * An empty list allows any origin (development). A request without an `Origin`
 * header is not from a browser page and is allowed: the policy exists to stop
 * other sites' pages from using a visitor's browser against this server.
 */
export class OriginPolicy {
  private readonly allowed: ReadonlySet<string>;

  constructor(origins: readonly string[]) {
    this.allowed = new Set(origins.map((o) => o.toLowerCase()));
  }

  get allowsAny(): boolean {
    return this.allowed.size === 0;
  }

  isAllowed(origin: string | undefined): boolean {
    if (origin === undefined || this.allowsAny) return true;
    return this.allowed.has(origin.toLowerCase());
  }
}
