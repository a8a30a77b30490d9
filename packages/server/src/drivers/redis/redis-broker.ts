import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Broker, ChannelMessage, ChannelMessageHandler } from "../../ports/broker.js";
import { handled } from "./handled-commands.js";

/** How long a publish may wait for Redis before it counts as failed (other nodes then resync). */
const PUBLISH_TIMEOUT_MS = 1000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface RedisBrokerOptions {
  /** Publishing connection. */
  publisher: Redis;
  /** A separate connection: one in subscriber mode can do nothing else. */
  subscriber: Redis;
  /** Redis channel shared by every node of one deployment. */
  channel: string;
  nodeId: string;
  logger: Logger;
  /**
   * Told when this node's clients may have missed events from other nodes: its
   * subscription came back after a loss, or another node reports that some of
   * its publishes failed while Redis was away.
   */
  onResubscribed?: () => void;
}

/**
 * Cross-node broker over Redis pub/sub. A message is handed to this node's
 * transports at once (local clients never wait for Redis) and published for the
 * other nodes, which skip their own echoes. One publishing connection keeps one
 * publisher's messages in order. While Redis is unreachable, other nodes miss
 * events (at-most-once, as the Broker contract says): durable state (chat by
 * `seq`, notifications) is re-read from the database, and `onResubscribed`
 * lets the server tell clients to resync. A node whose publishes failed says so
 * on the channel once its publishing connection is back, because the other
 * nodes' subscriptions may have come back earlier and seen nothing missing.
 */
export class RedisBroker implements Broker {
  private readonly handlers = new Set<ChannelMessageHandler>();
  private subscribed = false;
  /** A publish failed since the last "missed" notice went out. */
  private missedPublish = false;

  private constructor(private readonly options: RedisBrokerOptions) {}

  static async start(options: RedisBrokerOptions): Promise<RedisBroker> {
    const broker = new RedisBroker(options);
    // ioredis re-subscribes by itself after a reconnect, without handling that promise (rejected if the client closes meanwhile).
    handled(options.subscriber, ["subscribe"]);
    options.subscriber.on("message", (channel: string, raw: string) => {
      if (channel === options.channel) broker.onRemote(raw);
    });
    options.subscriber.on("ready", () => void broker.subscribe$());
    options.publisher.on("ready", () => void broker.reportMissed());
    // A lazy duplicate of the publisher is not connected yet; without the offline queue the first
    // subscribe would fail and the node would take clients before it hears other nodes' events.
    if (options.subscriber.status === "wait") await options.subscriber.connect().catch(() => {});
    await broker.subscribe$();
    return broker;
  }

  private async subscribe$(): Promise<void> {
    try {
      await this.options.subscriber.subscribe(this.options.channel);
      if (this.subscribed) this.options.onResubscribed?.();
      this.subscribed = true;
    } catch (err) {
      this.options.logger.warn({ err: (err as Error).message }, "redis broker subscribe failed; retrying on reconnect");
    }
  }

  async publish(message: ChannelMessage): Promise<void> {
    this.deliver(message, "local");
    try {
      // Bounded: a Redis that accepts connections and drops them again (a proxy in front of a dead
      // Redis) keeps ioredis re-sending the command, and a chat ack must not wait on that.
      await withTimeout(this.options.publisher.publish(this.options.channel, JSON.stringify({ from: this.options.nodeId, message })), PUBLISH_TIMEOUT_MS);
    } catch (err) {
      this.missedPublish = true;
      this.options.logger.warn({ err: (err as Error).message, event: message.event }, "redis broker publish failed; other nodes miss this event");
    }
  }

  /** Tells the other nodes that events of this node were lost, so their clients resync. */
  private async reportMissed(): Promise<void> {
    if (!this.missedPublish) return;
    this.missedPublish = false;
    try {
      await this.options.publisher.publish(this.options.channel, JSON.stringify({ from: this.options.nodeId, missed: true }));
    } catch {
      this.missedPublish = true;
    }
  }

  subscribe(handler: ChannelMessageHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  private onRemote(raw: string): void {
    let parsed: { from?: unknown; message?: ChannelMessage; missed?: unknown };
    try {
      parsed = JSON.parse(raw) as typeof parsed;
    } catch {
      return;
    }
    if (parsed.from === this.options.nodeId) return;
    if (parsed.missed === true) return this.options.onResubscribed?.();
    if (!parsed.message || !Array.isArray(parsed.message.channels)) return;
    this.deliver(parsed.message, "remote");
  }

  private deliver(message: ChannelMessage, origin: "local" | "remote"): void {
    for (const handler of this.handlers) handler(message, origin);
  }

  async close(): Promise<void> {
    this.handlers.clear();
    await this.options.subscriber.unsubscribe(this.options.channel).catch(() => {});
  }
}
