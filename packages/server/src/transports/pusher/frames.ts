import { z } from "zod";
import { storedText, userIdSchema } from "@switchboard/protocol";

/**
 * Frames a Pusher client sends (protocol 7), each parsed by its schema before
 * anything acts on it. `data` arrives as an object or as a JSON string
 * (clients differ); both are accepted.
 */

/** A frame's envelope: `{ event, channel?, data? }`. */
export const frameSchema = z.object({
  event: z.string().min(1).max(200),
  channel: z.string().max(1000).optional(),
  data: z.unknown().optional(),
});

export const subscribeSchema = z.object({
  channel: z.string().min(1).max(1000),
  auth: z.string().max(1000).optional(),
  channel_data: z.string().max(20_000).optional(),
});

export const unsubscribeSchema = z.object({ channel: z.string().min(1).max(1000) });

export const signinSchema = z.object({
  auth: z.string().max(1000),
  user_data: z.string().max(20_000),
});

/** `channel_data` of a presence subscription (signed by the app backend). */
export const channelDataSchema = z.object({
  user_id: z.union([z.string().min(1).max(128), z.number().finite()]).transform(String),
  user_info: z.unknown().optional(),
});

/** `user_data` of `pusher:signin`. */
export const userDataSchema = z.looseObject({
  // The user id rule of tokens (PROTOCOL.md section 3): the signed-in user is one of the tenant's users,
  // in presence and member lists, with an id those can hold.
  id: userIdSchema,
  name: storedText().max(200).optional(),
  user_info: z.unknown().optional(),
});

/** `data` given as a JSON string is decoded; anything else is taken as is. */
export function decodeData(data: unknown): unknown {
  if (typeof data !== "string") return data;
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return data;
  }
}

/** Decodes a JSON string into an object for a schema; a non-JSON string stays a string (and fails it). */
export function parseData<S extends z.ZodType>(schema: S, data: unknown): z.infer<S> | undefined {
  const parsed = schema.safeParse(decodeData(data));
  return parsed.success ? parsed.data : undefined;
}

/**
 * Event data in a frame: Pusher sends `data` as a string, and pusher-js
 * JSON-parses it when it can. So every value is JSON-encoded, strings too: an
 * event published with the string `"123"` reaches pusher-js as that string, as
 * it reaches Socket.IO and plain WebSocket clients (PROTOCOL.md section 8,
 * "verbatim"), not as the number 123. Data that came in through Pusher's own
 * APIs as a JSON string was decoded on the way in (`decodeData`), so it goes
 * out as the same JSON.
 */
export function encodeData(data: unknown): string {
  return JSON.stringify(data ?? null);
}

/** Data as Pusher's webhooks and size limits take it: a string as it is, anything else JSON-encoded. */
export function dataString(data: unknown): string {
  return typeof data === "string" ? data : JSON.stringify(data ?? null);
}

/** Size of event data as Pusher counts it: the bytes of its string form. */
export function dataBytes(data: unknown): number {
  return Buffer.byteLength(dataString(data), "utf8");
}
