/** Runs one statement for many keys within one scope (a tenant); answers by key. */
export type BatchLoad<V, I> = (scope: string, keys: string[], inputs: I[]) => Promise<Map<string, V>>;

export interface KeyedBatcherOptions<V, I> {
  load: BatchLoad<V, I>;
  /**
   * Statements of one scope in flight at once; calls made meanwhile wait and go
   * together in the scope's next one. Scopes do not wait for each other (the
   * connection pool bounds the total).
   */
  maxInFlight: number;
  /** Most keys in one statement. */
  maxKeys: number;
  /**
   * Each key at most once per statement: a call whose key is already waiting
   * goes in a later statement. Writes need it (an upsert cannot touch one row
   * twice, and the later write must win), and it requires `maxInFlight: 1`, so
   * that the later statement also runs after the earlier one. Reads of the same
   * key may share a statement.
   */
  distinctKeys?: boolean;
}

interface Waiter<V> {
  keys: readonly string[];
  resolve: (rows: Map<string, V>) => void;
  reject: (err: unknown) => void;
}

interface Batch<V, I> {
  scope: string;
  entries: Map<string, I>;
  waiters: Waiter<V>[];
}

/**
 * Coalesces concurrent keyed statements (reads by id, or one-row upserts) into
 * one statement per scope.
 *
 * Why: every new connection reads its user's presence record, and every user
 * whose last connection closes gets a lastSeen write. In a connection storm (a
 * deploy, a network blip: thousands of clients reconnecting at once) or when a
 * node stops, those one-row statements were a sixth of the server's time,
 * mostly round trips. A call that finds a free slot runs at once, so an idle
 * server answers as fast as before; calls made while `maxInFlight` statements
 * run are merged.
 *
 * A call never joins a statement that has already started: a read always sees
 * every write that completed before it was asked (presence reads a record,
 * changes it, and reads it again under the user's lock), and statements start
 * in the order their first call was made.
 */
export class KeyedBatcher<V, I = undefined> {
  /** Statements running, per scope (absent: none). */
  private readonly inFlight = new Map<string, number>();
  /** Batches waiting, oldest first; a scope's batches start in this order. */
  private queue: Batch<V, I>[] = [];
  /** The queued batch of each scope that still takes keys. */
  private readonly open = new Map<string, Batch<V, I>>();
  private pumping = false;
  private pumpAgain = false;

  constructor(private readonly options: KeyedBatcherOptions<V, I>) {
    if (options.distinctKeys && options.maxInFlight !== 1) throw new Error("distinctKeys needs maxInFlight 1: a key's later statement must run after its earlier one");
  }

  /** The rows of `keys` in `scope` (keys without a row are absent); `inputs[i]` goes with `keys[i]`. */
  run(scope: string, keys: readonly string[], inputs: readonly I[] = []): Promise<Map<string, V>> {
    if (inputs.length > 0 && inputs.length !== keys.length) return Promise.reject(new Error("one input per key, or none"));
    return new Promise((resolve, reject) => {
      let batch = this.open.get(scope);
      const clash = this.options.distinctKeys && batch !== undefined && keys.some((key) => batch!.entries.has(key));
      if (!batch || clash || batch.entries.size + keys.length > this.options.maxKeys) {
        batch = { scope, entries: new Map(), waiters: [] };
        this.open.set(scope, batch);
        this.queue.push(batch);
      }
      keys.forEach((key, i) => batch!.entries.set(key, inputs[i] as I));
      batch.waiters.push({ keys, resolve, reject });
      this.pump();
    });
  }

  /** Starts every waiting batch whose scope has a free slot, oldest first. */
  private pump(): void {
    // A load that calls `run` would pump again from inside this loop; it only asks for another pass.
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        this.startEligible();
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  private startEligible(): void {
    const waiting: Batch<V, I>[] = [];
    for (const batch of this.queue) {
      const running = this.inFlight.get(batch.scope) ?? 0;
      if (running >= this.options.maxInFlight) {
        waiting.push(batch);
        continue;
      }
      if (this.open.get(batch.scope) === batch) this.open.delete(batch.scope);
      this.inFlight.set(batch.scope, running + 1);
      void this.execute(batch).finally(() => {
        const left = this.inFlight.get(batch.scope)! - 1;
        if (left === 0) this.inFlight.delete(batch.scope);
        else this.inFlight.set(batch.scope, left);
        this.pump();
      });
    }
    this.queue = waiting;
  }

  private async execute({ scope, entries, waiters }: Batch<V, I>): Promise<void> {
    let rows: Map<string, V>;
    try {
      rows = await this.options.load(scope, [...entries.keys()], [...entries.values()]);
    } catch (err) {
      for (const waiter of waiters) waiter.reject(err);
      return;
    }
    for (const waiter of waiters) {
      // Each caller gets its own map, holding only what it asked for.
      const own = new Map<string, V>();
      for (const key of waiter.keys) {
        const row = rows.get(key);
        if (row !== undefined) own.set(key, row);
      }
      waiter.resolve(own);
    }
  }
}
