/**
 * A dependency (database, Redis, a webhook) could not be reached or dropped the
 * connection. Drivers throw it so the core can answer `unavailable` (safe to
 * retry) instead of `internal`; nothing was committed.
 */
export class DependencyUnavailableError extends Error {
  constructor(
    readonly dependency: string,
    options?: { cause?: unknown },
  ) {
    super(`${dependency} unavailable`, options);
    this.name = "DependencyUnavailableError";
  }
}
