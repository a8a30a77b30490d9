import type { Logger } from "pino";
import type { Broker, ChannelMessage } from "../../ports/broker.js";
import type { Connection } from "../connection.js";
import type { ConnectionRegistry } from "../connection-registry.js";
import type { ChannelService } from "./channel-service.js";

/**
 * Takes users' connections out of a channel they may no longer be in, on every
 * node: a participant removed from a conversation (or one who left it) must stop
 * receiving its `conversation:{id}` events at once, on whichever node their
 * devices are. {@link evict} publishes a `leave_channel` command; each node
 * unsubscribes its own connections of those users (Socket.IO and plain
 * WebSocket; the Pusher transport acts on the same command for its signed-in
 * users) and drops them from the channel's members, which announces
 * `room:userLeft`. Those users also stop viewing the resource of the same name
 * (`presence:setActivity` on `conversation:{id}`), whether or not they had
 * joined its channel: a removed participant must not stay listed as a viewer,
 * nor keep learning who opens the conversation.
 */
export class ChannelEviction {
  private unsubscribe?: () => void;

  constructor(
    private readonly broker: Broker,
    private readonly registry: ConnectionRegistry,
    private readonly channels: ChannelService,
    private readonly logger: Logger,
    private readonly viewers?: { stopViewing(connection: Connection, resource: string): Promise<unknown> },
  ) {}

  start(): void {
    this.unsubscribe = this.broker.subscribe((message) => void this.handle(message));
  }

  close(): void {
    this.unsubscribe?.();
  }

  /** Resolves once the command is handed to the broker (this node's connections are out by then with the memory broker). */
  evict(tenantId: string, channel: string, userIds: readonly string[]): Promise<void> {
    if (userIds.length === 0) return Promise.resolve();
    return this.broker.publish({ tenantId, channels: [], event: "leave_channel", data: null, control: { kind: "leave_channel", channel, userIds: [...userIds] } });
  }

  private async handle(message: ChannelMessage): Promise<void> {
    const control = message.control;
    if (control?.kind !== "leave_channel") return;
    // All unsubscribed in this turn, before any await: no event published after the command reaches them.
    const evicted = control.userIds.flatMap((userId) => [...this.registry.connectionsOf(message.tenantId, userId)].filter((c) => c.isSubscribed(control.channel)));
    for (const connection of evicted) connection.unsubscribe(control.channel);
    for (const connection of evicted) {
      try {
        await this.channels.removeMember(connection, control.channel);
      } catch (err) {
        this.logger.warn({ err, channel: control.channel }, "evicted connection not removed from the member list");
      }
    }
    if (!this.viewers) return;
    for (const userId of control.userIds) {
      for (const connection of this.registry.connectionsOf(message.tenantId, userId)) {
        try {
          await this.viewers.stopViewing(connection, control.channel);
        } catch (err) {
          this.logger.warn({ err, channel: control.channel }, "evicted connection not removed from the viewers");
        }
      }
    }
  }
}
