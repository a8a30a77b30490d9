/** Reads rows by id within one scope (a tenant): one statement for many ids. */
export type BatchLoad<V> = (scope: string, ids: string[]) => Promise<Map<string, V>>;

export interface ReadBatcherOptions<V> {
  load: BatchLoad<V>;
  /** Statements in flight at once; reads asked meanwhile wait and go together in the next one. */
  maxInFlight: number;
  /** Most ids in one statement. */
  maxIds: number;
}

interface Waiter<V> {
  ids: readonly string[];
  resolve: (rows: Map<string, V>) => void;
  reject: (err: unknown) => void;
}

interface Batch<V> {
  scope: string;
  ids: Set<string>;
  waiters: Waiter<V>[];
}

/**
 * Coalesces concurrent reads by id into one statement per scope.
 *
 * Why: every new connection reads its user's presence record. In a connection
 * storm (a deploy, a network blip: thousands of clients reconnecting at once)
 * those one-row SELECTs were a sixth of the server's time, mostly the round
 * trips. A read that finds a free slot runs at once, so an idle server answers
 * as fast as before; reads asked while `maxInFlight` statements run are merged.
 *
 * A read never joins a statement that has already started: it always sees
 * every write that completed before it was asked (presence reads a record,
 * changes it, and reads it again under the user's lock).
 */
export class ReadBatcher<V> {
  private inFlight = 0;
  private readonly queue: Batch<V>[] = [];
  /** The queued batch of each scope that still takes ids. */
  private readonly open = new Map<string, Batch<V>>();

  constructor(private readonly options: ReadBatcherOptions<V>) {}

  /** The rows of `ids` in `scope` (ids without a row are absent). */
  get(scope: string, ids: readonly string[]): Promise<Map<string, V>> {
    return new Promise((resolve, reject) => {
      let batch = this.open.get(scope);
      if (!batch || batch.ids.size + ids.length > this.options.maxIds) {
        batch = { scope, ids: new Set(), waiters: [] };
        this.open.set(scope, batch);
        this.queue.push(batch);
      }
      for (const id of ids) batch.ids.add(id);
      batch.waiters.push({ ids, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.shift()!;
      if (this.open.get(batch.scope) === batch) this.open.delete(batch.scope);
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async run({ scope, ids, waiters }: Batch<V>): Promise<void> {
    let rows: Map<string, V>;
    try {
      rows = await this.options.load(scope, [...ids]);
    } catch (err) {
      for (const waiter of waiters) waiter.reject(err);
      return;
    }
    for (const waiter of waiters) {
      // Each caller gets its own map, holding only what it asked for.
      const own = new Map<string, V>();
      for (const id of waiter.ids) {
        const row = rows.get(id);
        if (row !== undefined) own.set(id, row);
      }
      waiter.resolve(own);
    }
  }
}
