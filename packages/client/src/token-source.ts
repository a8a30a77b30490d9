/** Where the client gets its JWT: a fixed token, or a function the app implements (usually a call to its backend). */
export interface TokenOptions {
  token?: string;
  getToken?: () => string | Promise<string>;
}

/** Tokens this close to `exp` are renewed before connecting rather than sent to be refused. */
const EXPIRY_MARGIN_MS = 5_000;

/**
 * Holds the current token and renews it through `getToken` when it is expired
 * (judged from its `exp` claim, which the client reads but cannot verify) or
 * when the server says so. A fixed `token` cannot be renewed.
 */
export class TokenSource {
  private current: string | undefined;
  private pending: Promise<string> | undefined;

  constructor(private readonly options: TokenOptions) {
    if (!options.token && !options.getToken) throw new TypeError("createClient needs token or getToken");
    this.current = options.token;
  }

  /** Whether a refused or expired token can be replaced. */
  get renewable(): boolean {
    return this.options.getToken !== undefined;
  }

  /** The token to connect with: the cached one while it is not about to expire, else a fresh one. */
  async get(): Promise<string> {
    if (this.current !== undefined && !this.expiresSoon(this.current)) return this.current;
    if (!this.options.getToken) return this.current!;
    this.pending ??= Promise.resolve()
      .then(() => this.options.getToken!())
      .then((token) => {
        this.current = token;
        return token;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  /** Forgets the cached token (the server refused it) so the next `get` asks `getToken` again. */
  invalidate(): void {
    if (this.options.getToken) this.current = undefined;
  }

  private expiresSoon(token: string): boolean {
    const exp = readExp(token);
    return exp !== undefined && exp * 1000 - EXPIRY_MARGIN_MS <= Date.now();
  }
}

/** The `exp` claim of a JWT, if it has a readable one. */
export function readExp(token: string): number | undefined {
  const part = token.split(".")[1];
  if (!part) return undefined;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "="));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp : undefined;
  } catch {
    return undefined;
  }
}
