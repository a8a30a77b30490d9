import type { Message } from "@switchboard/protocol";
import type { Connection } from "../connection.js";
import { Emitter } from "../emitter.js";
import type { SwitchboardError } from "../errors.js";

interface Track {
  /** Highest seq handed to the app with nothing missing below it (since the baseline). */
  lastSeq: number;
  /** Arrived ahead of a gap, waiting for the gap to be fetched. */
  ahead: Map<number, Message>;
  fetching: Promise<void> | undefined;
  /** Failed fetches retried in a row while connected (see `retryLater`). */
  retries: number;
}

type SequencerEvents = {
  /** Each message once, in seq order per conversation. */
  message: (message: Message) => void;
};

/** Page size for gap fetches (the protocol's maximum). */
const PAGE = 200;
/** Conversation list page size (the protocol's maximum) and how many pages a resync reads at most. */
const LIST_PAGE = 100;
const LIST_PAGES_MAX = 20;
/** History requests a resync runs at once. */
const FILL_CONCURRENCY = 4;
/** Wait before fetching a gap again after a failed fetch while connected, and how many times in a row. */
const FILL_RETRY_MS = 2_000;
const FILL_RETRIES = 5;

/**
 * Turns messages arriving from anywhere (live `message:new`, send acks, the
 * offline outbox, history pages) into one stream per conversation that is
 * gapless, in `seq` order and without duplicates.
 *
 * A conversation is tracked from its baseline: the highest seq the app
 * already has when it starts listening (from history, the conversation list,
 * or the first live message). A message past `lastSeq + 1` is held back and
 * the missing range fetched with `message:history { afterSeq }`; after a
 * reconnect or `server:resync`, every tracked conversation is fetched from
 * its `lastSeq` the same way.
 */
export class MessageSequencer {
  readonly events = new Emitter<SequencerEvents>();
  private readonly tracks = new Map<string, Track>();
  /** Server time of the first connection: see {@link since}. */
  private start: string | undefined;

  constructor(private readonly connection: Connection) {}

  /**
   * From this server time on, the client hears of every conversation created
   * for the user (`conversation:new`) while connected; one created while it was
   * away is untracked, and the resync fetches it from its first message.
   */
  since(serverTime: string): void {
    this.start ??= serverTime;
  }

  /** The seq up to which a conversation is complete, if tracked. */
  lastSeq(conversationId: string): number | undefined {
    return this.tracks.get(conversationId)?.lastSeq;
  }

  /**
   * Starts tracking at `lastSeq` (messages up to it are known to the app), or,
   * when already tracked and behind, fetches up to at least that point.
   */
  baseline(conversationId: string, lastSeq: number): void {
    const track = this.tracks.get(conversationId);
    if (!track) {
      this.tracks.set(conversationId, { lastSeq, ahead: new Map(), fetching: undefined, retries: 0 });
    } else if (lastSeq > track.lastSeq) {
      void this.fill(conversationId);
    }
  }

  /**
   * A conversation the app read from the server (`conversation:list`,
   * `conversation:get`): started as {@link resync} starts it. One created for
   * the user while this client was away and not tracked yet is fetched from
   * its first message, so an app that lists conversations as soon as it is
   * back does not start it at its current seq before the resync sees it.
   */
  listed(conversation: { id: string; lastSeq: number; createdAt: string }): void {
    if (this.tracks.has(conversation.id) || !this.createdSinceStart(conversation.createdAt)) return this.baseline(conversation.id, conversation.lastSeq);
    this.tracks.set(conversation.id, { lastSeq: 0, ahead: new Map(), fetching: undefined, retries: 0 });
    if (conversation.lastSeq > 0) void this.fill(conversation.id);
  }

  /** Feeds one message; it is emitted now, later (after a gap is filled), or never (a duplicate). */
  accept(message: Message): void {
    let track = this.tracks.get(message.conversationId);
    if (!track) {
      track = { lastSeq: message.seq - 1, ahead: new Map(), fetching: undefined, retries: 0 };
      this.tracks.set(message.conversationId, track);
    }
    if (message.seq <= track.lastSeq) return;
    if (message.seq > track.lastSeq + 1) {
      track.ahead.set(message.seq, message);
      void this.fill(message.conversationId);
      return;
    }
    this.deliver(track, message);
  }

  /**
   * Fetches every tracked conversation's missed messages (after a reconnect or
   * `server:resync`). The conversation list (one request per 100
   * conversations) tells which ones moved past what the client has, so only
   * those are fetched, a few at a time: one history request per tracked
   * conversation would run into the per-user rate limit for large accounts.
   */
  async resync(): Promise<void> {
    const behind = new Set<string>();
    const unseen = new Set(this.tracks.keys());
    try {
      let before: { before: string; beforeId: string } | undefined;
      // The first page always: conversations joined while away are the most recent ones.
      for (let page = 0; page < LIST_PAGES_MAX && (page === 0 || unseen.size > 0); page++) {
        const { conversations } = await this.connection.request("conversation:list", { limit: LIST_PAGE, ...before });
        for (const c of conversations) {
          const track = this.tracks.get(c.id);
          if (!track) {
            // Created while this client was away: every message is one it missed, as live it would have
            // got them all after `conversation:new`. One it was added to meanwhile starts where it is now,
            // as `conversation:new` starts it live (at the seq of the moment it was added).
            if (this.createdSinceStart(c.createdAt)) {
              this.tracks.set(c.id, { lastSeq: 0, ahead: new Map(), fetching: undefined, retries: 0 });
              if (c.lastSeq > 0) behind.add(c.id);
            }
            continue;
          }
          unseen.delete(c.id);
          if (c.lastSeq > track.lastSeq || track.ahead.size > 0) behind.add(c.id);
        }
        if (conversations.length < LIST_PAGE) break;
        const last = conversations.at(-1)!;
        before = { before: last.lastActivityAt, beforeId: last.id };
      }
    } catch {
      // The list failed: ask each conversation instead.
    }
    // Tracked but not listed (left, or beyond the pages read): asked directly.
    const ids = [...behind, ...unseen];
    const workers = Array.from({ length: Math.min(FILL_CONCURRENCY, ids.length) }, async () => {
      for (let id = ids.shift(); id !== undefined; id = ids.shift()) await this.fill(id, true);
    });
    await Promise.all(workers);
  }

  private createdSinceStart(createdAt: string): boolean {
    return this.start !== undefined && Date.parse(createdAt) >= Date.parse(this.start);
  }

  /** Fetches from `lastSeq` until the server has nothing more; one fetch per conversation at a time. */
  fill(conversationId: string, force = false): Promise<void> {
    const track = this.tracks.get(conversationId);
    if (!track) return Promise.resolve();
    if (track.fetching) return force ? track.fetching.then(() => this.fill(conversationId)) : track.fetching;
    track.fetching = (async () => {
      try {
        // A message that arrives ahead while the last page is in flight needs
        // another round; three rounds without progress mean the server does not
        // have what is missing (it cannot, seq being gapless), so stop.
        for (let stalled = 0; stalled < 3; ) {
          const before = track.lastSeq;
          for (;;) {
            const { messages, hasMore } = await this.history(conversationId, track.lastSeq);
            track.retries = 0;
            // A copy held back arrived live before this page was read: the page's is as new or newer (an
            // edit, a deletion's tombstone). Swapped in first, since delivering the page's first message
            // releases what is held behind it before the page's own copies come up.
            for (const message of messages) if (track.ahead.has(message.seq)) track.ahead.set(message.seq, message);
            for (const message of messages) this.accept(message);
            if (!hasMore || messages.length === 0) break;
          }
          if (track.ahead.size === 0) break;
          if (track.lastSeq === before) stalled++;
        }
      } catch (err) {
        // Offline: what is held back waits for the reconnect's resync. Connected but failed for a
        // passing reason (no answer in time, rate limited past the waits, a server error): tried
        // again shortly, or the held messages would stay hidden until some later reconnect.
        const code = (err as SwitchboardError).code;
        if (this.connection.status === "connected" && (code === "unavailable" || code === "rate_limited" || code === "internal")) this.retryLater(conversationId, track);
      } finally {
        track.fetching = undefined;
      }
    })();
    return track.fetching;
  }

  /**
   * Fetches again after {@link FILL_RETRY_MS} while still connected and
   * tracking the same conversation, at most {@link FILL_RETRIES} times in a
   * row (a fetch that gets through starts the count again).
   */
  private retryLater(conversationId: string, track: Track): void {
    if (track.retries >= FILL_RETRIES) return;
    track.retries++;
    setTimeout(() => {
      if (this.tracks.get(conversationId) === track && this.connection.status === "connected") void this.fill(conversationId);
    }, FILL_RETRY_MS);
  }

  /** One history page; waits out `rate_limited` (a few times) instead of giving up. */
  private async history(conversationId: string, afterSeq: number): Promise<{ messages: Message[]; hasMore: boolean }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.connection.request("message:history", { conversationId, afterSeq, limit: PAGE });
      } catch (err) {
        const retryAfterMs = (err as SwitchboardError).code === "rate_limited" ? ((err as SwitchboardError).details as { retryAfterMs?: number } | undefined)?.retryAfterMs : undefined;
        if (retryAfterMs === undefined || attempt >= 3) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.min(retryAfterMs, 30_000)));
      }
    }
  }

  /** Stops tracking (the conversation was left or removed). */
  forget(conversationId: string): void {
    this.tracks.delete(conversationId);
  }

  private deliver(track: Track, message: Message): void {
    track.lastSeq = message.seq;
    this.events.emit("message", message);
    for (let next = track.ahead.get(track.lastSeq + 1); next; next = track.ahead.get(track.lastSeq + 1)) {
      track.ahead.delete(next.seq);
      track.lastSeq = next.seq;
      this.events.emit("message", next);
    }
    for (const seq of track.ahead.keys()) if (seq <= track.lastSeq) track.ahead.delete(seq);
  }
}
