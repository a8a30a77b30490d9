import { z } from "zod";
import { channelSchema } from "../identifiers.js";

/** Largest `data` of a published event, as JSON text. */
export const EVENT_DATA_MAX_BYTES = 64 * 1024;
/** Most channels one publish may address. */
export const EVENT_MAX_CHANNELS = 100;

/**
 * Names Switchboard emits itself, or Socket.IO reserves: an app event under one
 * of them could impersonate the server (a fake `message:new`) or break clients
 * (a fake `session:idle` makes the client SDK treat its next disconnect as a
 * sign-out). Plain WebSocket frames carry the event name as their `type`, so
 * that protocol's own frame types (`response`, `subscribed`, ...) are here too.
 */
export const RESERVED_EVENT_PREFIXES = ["message:", "conversation:", "typing:", "call:", "presence:", "notification:", "room:", "server:", "crisis:", "session:", "pusher:", "pusher_internal:"];
export const RESERVED_EVENT_NAMES = [
  "connect",
  "connect_error",
  "connected",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
  "error",
  "ping",
  "pong",
  "token_expired",
  "response",
  "subscribed",
  "unsubscribed",
];

/** Whether an app may publish an event under this name (see {@link RESERVED_EVENT_PREFIXES}). */
export function isReservedEventName(name: string): boolean {
  return RESERVED_EVENT_NAMES.includes(name) || RESERVED_EVENT_PREFIXES.some((p) => name.startsWith(p));
}

export const eventNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,100}$/, "must be 1-100 characters of A-Z a-z 0-9 _ . : -")
  .refine((name) => !isReservedEventName(name), "is reserved by Switchboard");

/** `POST /v1/events`, the server SDK's `publish`, and the Postgres bridge. */
export const publishSchema = z
  .object({
    channel: channelSchema.optional(),
    channels: z.array(channelSchema).min(1).max(EVENT_MAX_CHANNELS).optional(),
    event: eventNameSchema,
    data: z.unknown().optional(),
  })
  .refine((p) => (p.channel === undefined) !== (p.channels === undefined), { message: "give either channel or channels", path: ["channels"] });

export type PublishPayload = z.infer<typeof publishSchema>;

/** An app event as the plain WebSocket protocol delivers it. */
export interface ChannelEventFrame {
  type: string;
  channel: string;
  data: unknown;
  timestamp: string;
}
