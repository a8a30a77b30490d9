import type { AppendResult, NewMessage } from "../../ports/chat-store.js";
import { DependencyUnavailableError } from "../../ports/errors.js";

/** What one batch statement stored, by message id (items it did not store are absent). */
export type StoredBatch = Map<string, Extract<AppendResult, { kind: "stored" }>>;

export interface AppendBatcherOptions {
  /** Stores several sends in one statement; resolves with those it stored. */
  appendMany: (inputs: NewMessage[]) => Promise<StoredBatch>;
  /** Stores (or classifies) one send on its own: the path of a lone send and of every fallback. */
  appendOne: (input: NewMessage) => Promise<AppendResult>;
  /** Statements in flight at once (each holds its own conversations). */
  maxInFlight: number;
  /** Most sends in one statement. */
  maxBatch: number;
}

interface Pending {
  input: NewMessage;
  /** Arrival number: a statement's sends are passed in arrival order. */
  arrival: number;
  resolve: (result: AppendResult) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for chat sends. Up to `maxInFlight` statements run at once,
 * and no two of them hold the same conversation: the sends that arrive for a
 * conversation while one of its statements runs wait, and go together (with
 * the waiting sends of other conversations) in the next statement a free slot
 * starts. One round trip, one row lock per conversation and one commit (one
 * WAL flush) for all of them.
 *
 * Why: each send used to be its own transaction, and on a busy server the
 * commits, not the inserts, were the cost (Postgres at 62% CPU for 1,500
 * sends/s in the chat benchmark). A send whose conversation has nothing in
 * flight, while a slot is free, starts at once (alone, on the single-send
 * statement), so an idle server answers as fast as before. Conversations used
 * to be hashed to fixed lanes, and a send waited for its lane's statement even
 * while the other lanes were idle: one slow statement (a lock wait behind
 * another node's batch, a slow commit) held back every conversation of its
 * lane. Now it holds back only its own. (The chat benchmark, whose statements
 * are all fast, measured no difference between the two beyond its noise.)
 *
 * Order and safety:
 * - A conversation's sends keep their arrival order in `seq`: at most one
 *   statement per conversation, and its waiting sends are taken oldest first.
 * - Statements in flight hold disjoint conversations, so this node's
 *   statements cannot deadlock each other. Another node's batch can (two
 *   conversations locked in opposite orders); Postgres then aborts one
 *   statement, and its sends are retried one by one, like any send the batch
 *   did not store.
 * - When the database is unreachable, every send of the batch fails as
 *   `unavailable` and none is retried here (the commit's fate may be unknown).
 * - A send the batch statement did not store (not a participant, bad reply,
 *   a clientMessageId already used) goes through the single-send path, which
 *   gives its exact outcome. A clientMessageId repeated inside one batch waits
 *   for the batch and then finds its original (`duplicate`).
 */
export class AppendBatcher {
  /** Waiting sends by conversation, conversations in the order their oldest waiting send arrived. */
  private readonly waiting = new Map<string, Pending[]>();
  /** Conversations a running statement holds. */
  private readonly busy = new Set<string>();
  private running = 0;
  private arrivals = 0;
  private readonly maxInFlight: number;

  constructor(private readonly options: AppendBatcherOptions) {
    this.maxInFlight = Math.max(1, options.maxInFlight);
  }

  append(input: NewMessage): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      const pending: Pending = { input, arrival: this.arrivals++, resolve, reject };
      const queue = this.waiting.get(input.conversationId);
      if (queue) queue.push(pending);
      else this.waiting.set(input.conversationId, [pending]);
      // Nothing can start while every slot is taken or this conversation has a statement running.
      if (this.running < this.maxInFlight && !this.busy.has(input.conversationId)) this.start();
    });
  }

  /** Starts statements while a slot is free and some conversation with waiting sends has none running. */
  private start(): void {
    while (this.running < this.maxInFlight) {
      const batch = this.take();
      if (batch.length === 0) return;
      const conversations = new Set(batch.map((item) => item.input.conversationId));
      for (const id of conversations) this.busy.add(id);
      this.running++;
      void this.flush(batch).finally(() => {
        this.running--;
        for (const id of conversations) this.busy.delete(id);
        this.start();
      });
    }
  }

  /** The next statement's sends: oldest conversations first, each conversation's waiting sends in order, in arrival order. */
  private take(): Pending[] {
    const batch: Pending[] = [];
    for (const [conversationId, queue] of this.waiting) {
      if (this.busy.has(conversationId)) continue;
      batch.push(...queue.splice(0, this.options.maxBatch - batch.length));
      if (queue.length === 0) this.waiting.delete(conversationId);
      if (batch.length >= this.options.maxBatch) break;
    }
    return batch.sort((a, b) => a.arrival - b.arrival);
  }

  private async flush(batch: Pending[]): Promise<void> {
    if (batch.length === 1) return this.one(batch[0]!);
    // The first send of each (sender, clientMessageId) goes in the statement; repeats wait for it.
    const seen = new Set<string>();
    const first: Pending[] = [];
    const repeats: Pending[] = [];
    for (const item of batch) {
      const key = item.input.clientMessageId === undefined ? undefined : `${item.input.tenantId}\u0000${item.input.senderId}\u0000${item.input.clientMessageId}`;
      if (key !== undefined && seen.has(key)) repeats.push(item);
      else {
        if (key !== undefined) seen.add(key);
        first.push(item);
      }
    }
    let stored: StoredBatch;
    try {
      stored = await this.options.appendMany(first.map((item) => item.input));
    } catch (err) {
      // The database is unreachable, or the connection dropped with the commit's fate
      // unknown: retrying here could store a send twice (one without a clientMessageId
      // has no key to catch it) and would wait out a timeout per send. Every send of
      // the batch fails as `unavailable`, which the client may retry.
      if (err instanceof DependencyUnavailableError) {
        for (const item of batch) item.reject(err);
        return;
      }
      // Deadlock with another node, a unique key raced by another node, a value the
      // statement could not cast: the single path gives each send its own outcome.
      stored = new Map();
    }
    const rest: Pending[] = [];
    for (const item of first) {
      const result = stored.get(item.input.id);
      if (result) item.resolve(result);
      else rest.push(item);
    }
    // In order, so a retried send's seq still follows the sends before it.
    for (const item of [...rest, ...repeats]) await this.one(item);
  }

  private async one(item: Pending): Promise<void> {
    try {
      item.resolve(await this.options.appendOne(item.input));
    } catch (err) {
      item.reject(err);
    }
  }
}
