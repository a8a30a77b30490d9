import type { Logger } from "pino";
import type { Caller } from "../../auth/caller.js";
import { DependencyUnavailableError } from "../../ports/errors.js";
import type { TypingEntry, TypingStore } from "../../ports/typing-store.js";
import type { Connection } from "../connection.js";
import type { ConnectionListener } from "../connection-listener.js";
import type { ChatService, Origin } from "./chat-service.js";

/**
 * Typing indicators: never stored durably. A user typing in a conversation is
 * announced once (`typing:start`); further starts only push back the automatic
 * stop, so a client sending one per keystroke costs nothing downstream. The
 * server sends `typing:stop` itself after `timeoutMs` of silence and when the
 * typing connection closes. Indicators live in a {@link TypingStore}; every
 * node sweeps their deadlines, so with a shared store an indicator stops on
 * time even when the typist's node crashed, and a user typing on two devices
 * connected to different nodes is still announced once.
 */
export class TypingService implements ConnectionListener {
  private readonly sweep: NodeJS.Timeout;

  constructor(
    private readonly chat: ChatService,
    private readonly store: TypingStore,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {
    // A stop is late by at most a quarter of the timeout (at most a second).
    this.sweep = setInterval(() => void this.stopExpired(), Math.min(1000, Math.max(25, Math.floor(timeoutMs / 4))));
    this.sweep.unref();
  }

  async start(caller: Caller, conversationId: string, origin: Origin = {}): Promise<Record<string, never>> {
    const until = Date.now() + this.timeoutMs;
    if (await this.store.refresh(caller.tenantId, caller.userId, conversationId, until, origin.connectionId)) return {};
    const participants = await this.chat.participantsFor(caller, conversationId);
    const entry: TypingEntry = { tenantId: caller.tenantId, userId: caller.userId, conversationId, name: caller.name, participants, connectionId: origin.connectionId };
    // False: a concurrent start (on any node) won the race and announced it.
    if (await this.store.start(entry, until)) await this.chat.publishIn(caller.tenantId, conversationId, participants, "typing:start", event(caller, conversationId), origin);
    return {};
  }

  async stop(caller: Caller, conversationId: string, origin: Origin = {}): Promise<Record<string, never>> {
    const entry = await this.store.stop(caller.tenantId, caller.userId, conversationId);
    if (!entry) {
      await this.chat.participantsFor(caller, conversationId); // refuses non-members the same way start does
      return {};
    }
    await this.announceStop(entry, origin);
    return {};
  }

  /** Stops every indicator a closing connection started. */
  async disconnected({ caller, id: connectionId }: Connection): Promise<void> {
    for (const entry of await this.store.stopConnection(caller.tenantId, connectionId)) await this.announceStop(entry);
  }

  /** Stops the sweep (server stop); indicators still running end by their deadline on another node. */
  close(): void {
    clearInterval(this.sweep);
  }

  private async stopExpired(): Promise<void> {
    try {
      for (const entry of await this.store.takeExpired(Date.now())) await this.announceStop(entry);
    } catch (err) {
      if (err instanceof DependencyUnavailableError) this.logger.debug("typing sweep skipped: store unavailable");
      else this.logger.error({ err }, "typing sweep failed");
    }
  }

  /**
   * To the participants as they are now, not as they were at `typing:start`:
   * one removed in between (or the typist, gone by leaving) hears nothing more
   * of the conversation. Were the database unreachable, the entry's own list
   * is used rather than leave the others' indicator running.
   */
  private async announceStop(entry: TypingEntry, origin: Origin = {}): Promise<void> {
    const data = { conversationId: entry.conversationId, userId: entry.userId, name: entry.name };
    const participants = await this.chat.currentParticipants(entry.tenantId, entry.conversationId).catch(() => entry.participants);
    return this.chat.publishIn(entry.tenantId, entry.conversationId, participants, "typing:stop", data, origin);
  }
}

function event(caller: Caller, conversationId: string) {
  return { conversationId, userId: caller.userId, name: caller.name };
}
