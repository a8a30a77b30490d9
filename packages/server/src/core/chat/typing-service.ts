import type { Caller } from "../../auth/caller.js";
import type { Connection } from "../connection.js";
import type { ConnectionListener } from "../connection-listener.js";
import type { ChatService, Origin } from "./chat-service.js";

interface TypingState {
  timer: NodeJS.Timeout;
  participants: string[];
  name: string;
  connectionId?: string;
}

/**
 * Typing indicators: never stored. A user typing in a conversation is announced
 * once (`typing:start`); further starts only push back the automatic stop, so
 * a client sending one per keystroke costs nothing downstream. The server sends
 * `typing:stop` itself after `timeoutMs` of silence and when the typing
 * connection closes.
 */
export class TypingService implements ConnectionListener {
  private readonly typing = new Map<string, TypingState>();

  constructor(
    private readonly chat: ChatService,
    private readonly timeoutMs: number,
  ) {}

  async start(caller: Caller, conversationId: string, origin: Origin = {}): Promise<Record<string, never>> {
    const key = typingKey(caller, conversationId);
    const current = this.typing.get(key);
    if (current) {
      current.timer.refresh();
      current.connectionId = origin.connectionId;
      return {};
    }
    const participants = await this.chat.participantsFor(caller, conversationId);
    if (this.typing.has(key)) return {}; // a concurrent start won the race
    const timer = setTimeout(() => void this.end(caller, conversationId).catch(() => {}), this.timeoutMs);
    timer.unref();
    this.typing.set(key, { timer, participants, name: caller.name, connectionId: origin.connectionId });
    await this.chat.publish(caller.tenantId, participants, "typing:start", event(caller, conversationId), origin);
    return {};
  }

  async stop(caller: Caller, conversationId: string, origin: Origin = {}): Promise<Record<string, never>> {
    if (!this.typing.has(typingKey(caller, conversationId))) {
      await this.chat.participantsFor(caller, conversationId); // refuses non-members the same way start does
      return {};
    }
    await this.end(caller, conversationId, origin);
    return {};
  }

  /** Stops every indicator a closing connection started. */
  async disconnected({ caller, id: connectionId }: Connection): Promise<void> {
    const prefix = `${caller.tenantId}/${caller.userId}/`;
    for (const [key, state] of this.typing) {
      if (key.startsWith(prefix) && state.connectionId === connectionId) await this.end(caller, key.slice(prefix.length));
    }
  }

  /** Drops all timers (server stop). */
  close(): void {
    for (const state of this.typing.values()) clearTimeout(state.timer);
    this.typing.clear();
  }

  private async end(caller: Caller, conversationId: string, origin: Origin = {}): Promise<void> {
    const key = typingKey(caller, conversationId);
    const state = this.typing.get(key);
    if (!state) return;
    clearTimeout(state.timer);
    this.typing.delete(key);
    await this.chat.publish(caller.tenantId, state.participants, "typing:stop", { ...event(caller, conversationId), name: state.name }, origin);
  }
}

function typingKey(caller: Caller, conversationId: string): string {
  return `${caller.tenantId}/${caller.userId}/${conversationId}`;
}

function event(caller: Caller, conversationId: string) {
  return { conversationId, userId: caller.userId, name: caller.name };
}
