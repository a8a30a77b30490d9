import { RefCounts } from "./ref-counts.js";

/**
 * Keys the app holds (reference counted: several components may follow the
 * same user or record) and that must be registered on the server once per
 * connection (`presence:subscribe`, `presence:setActivity`).
 *
 * Why not just "the first holder registers": when the first holder's request
 * failed (the connection dropped meanwhile, as React StrictMode's trial
 * unmount does on purpose), a second holder that arrived while it was in
 * flight had only read the current state, and nobody registered the key: the
 * app counted itself subscribed and never heard of a change. Here every holder
 * waits for a registration in flight and takes over when it fails.
 */
export class Registrations {
  private readonly holders = new RefCounts();
  private readonly registered = new Set<string>();
  /** Registrations on the wire, by key; each entry settles when its request does. */
  private readonly inFlight = new Map<string, Promise<unknown>>();
  /** Registered keys released while offline (see {@link release}). */
  private readonly dropped = new Set<string>();
  /** Bumped by {@link reset}: a request sent before it says nothing of the new connection. */
  private generation = 0;

  /** Adds a holder to each key. */
  hold(keys: readonly string[]): void {
    for (const key of keys) this.holders.add(key);
  }

  /**
   * Removes a holder from each key; returns the keys nobody holds any more.
   * `offline`: the server cannot be told now, so those of them it has
   * registered are kept for {@link takeDropped}.
   */
  release(keys: readonly string[], offline = false): string[] {
    const gone = keys.filter((key) => this.holders.remove(key));
    for (const key of gone) {
      if (offline && this.registered.has(key)) this.dropped.add(key);
      this.registered.delete(key);
    }
    return gone;
  }

  /**
   * The keys released while offline that a recovered session (which keeps
   * its registrations) still has, except those held again since; forgotten
   * once taken. The caller deregisters them on the server.
   */
  takeDropped(): string[] {
    const keys = [...this.dropped].filter((key) => !this.holders.has(key));
    this.dropped.clear();
    return keys;
  }

  /** Every key held. */
  held(): string[] {
    return this.holders.keys();
  }

  /** The server forgot this connection's registrations (a new session): nothing counts as registered. */
  reset(): void {
    this.generation++;
    this.registered.clear();
    this.inFlight.clear();
    this.dropped.clear();
  }

  /**
   * Registers, through `register`, the keys among `keys` that are held and
   * neither registered nor being registered; waits for the others' requests in
   * flight and registers those whose request failed. Resolves with what
   * `register` returned (one entry per request this call made); rejects when a
   * request of this call fails.
   */
  async ensure<R>(keys: readonly string[], register: (missing: string[]) => Promise<R>): Promise<R[]> {
    const results: R[] = [];
    // Twice at most: once for what nobody registers, once more for what another holder failed to.
    for (let round = 0; round < 2; round++) {
      const missing = keys.filter((key) => this.holders.has(key) && !this.registered.has(key) && !this.inFlight.has(key));
      if (missing.length > 0) results.push(await this.register(missing, register));
      const others = [...new Set(keys.map((key) => this.inFlight.get(key)).filter((p): p is Promise<unknown> => p !== undefined))];
      if (others.length === 0) break;
      await Promise.allSettled(others);
    }
    return results;
  }

  private async register<R>(missing: string[], register: (missing: string[]) => Promise<R>): Promise<R> {
    const generation = this.generation;
    const request = register(missing);
    const settled = request.then(
      () => true,
      () => false,
    );
    for (const key of missing) this.inFlight.set(key, settled);
    const ok = await settled;
    if (generation === this.generation) {
      for (const key of missing) {
        if (this.inFlight.get(key) === settled) this.inFlight.delete(key);
        if (ok && this.holders.has(key)) this.registered.add(key);
      }
    }
    return request;
  }
}
