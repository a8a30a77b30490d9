/**
 * A command for every node, not an event for clients: `terminate_user` closes a
 * user's signed-in Pusher connections wherever they are; `leave_channel` takes
 * those users' connections out of a channel they may no longer be in (a
 * participant removed from a conversation).
 */
export type BrokerControl = { kind: "terminate_user"; userId: string } | { kind: "leave_channel"; channel: string; userIds: string[] };

/** One event published to one or more channels of a tenant. */
export interface ChannelMessage {
  tenantId: string;
  /**
   * `kind:id` names, unscoped: the tenant is carried separately. A connection in
   * several of them receives the event once (e.g. `message:new` to every
   * participant's `user:` channel).
   */
  channels: readonly string[];
  event: string;
  data: unknown;
  /** Connection not to deliver to (the sender's own device). */
  exceptConnectionId?: string;
  /** User who sent a client event; Pusher delivers it as `user_id` on presence channels. */
  userId?: string;
  /**
   * Set on commands between nodes (with no channels): never delivered to a client;
   * a transport acts on the kinds it knows and ignores the rest.
   */
  control?: BrokerControl;
}

/**
 * `origin` is `local` for a message published on this node and `remote` for
 * one from another node: a transport with its own cross-node fan-out (Socket.IO
 * through its Redis adapter) sends local messages into it and ignores remote ones.
 */
export type ChannelMessageHandler = (message: ChannelMessage, origin: "local" | "remote") => void;

/**
 * Carries channel events to every transport on every node.
 *
 * Contract: messages published by one publisher to one channel are delivered to
 * each subscriber in publish order; delivery is at-most-once (durable state, such
 * as chat history, lives in the database and is re-read by `seq`, never replayed
 * from the broker). `publish` resolves once the message is handed to the medium.
 */
export interface Broker {
  publish(message: ChannelMessage): Promise<void>;
  /** Registers a local handler; returns the function that removes it. */
  subscribe(handler: ChannelMessageHandler): () => void;
  close(): Promise<void>;
}
