import type { Broker, ChannelMessage, ChannelMessageHandler } from "../../ports/broker.js";

/** Single-node broker: hands each message to the local handlers synchronously, in order. */
export class MemoryBroker implements Broker {
  private readonly handlers = new Set<ChannelMessageHandler>();

  async publish(message: ChannelMessage): Promise<void> {
    for (const handler of this.handlers) handler(message, "local");
  }

  subscribe(handler: ChannelMessageHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
