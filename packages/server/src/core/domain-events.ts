import type { Call, Message } from "@switchboard/protocol";

/** Things that happened, for services that react to other services (webhooks, notifications). */
export type DomainEvent =
  | { type: "message.created"; tenantId: string; message: Message; participantIds: string[] }
  | { type: "call.missed"; tenantId: string; call: Call; userIds: string[] }
  | { type: "user.online" | "user.offline"; tenantId: string; userId: string; at: string }
  | { type: "crisis.alert"; tenantId: string; alert: Record<string, unknown> }
  /** The user's read receipt reached the conversation's last message (internal: not a webhook). */
  | { type: "conversation.read"; tenantId: string; userId: string; conversationId: string };

export type DomainEventListener = (event: DomainEvent) => void | Promise<void>;

/**
 * In-process fan-out of domain events, one per server (never a module
 * singleton). Listeners run after the emitting service has committed; a failing
 * listener is reported and never fails the request that caused the event.
 */
export class DomainEvents {
  private readonly listeners = new Set<DomainEventListener>();

  constructor(private readonly onListenerError: (err: unknown, event: DomainEvent) => void) {}

  on(listener: DomainEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once every listener has run (so a test or a stop can wait for them). */
  async emit(event: DomainEvent): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener(event);
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
  }
}
