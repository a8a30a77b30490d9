import { z } from "zod";

/**
 * Identifier rules shared by tokens, channel names and payloads. User ids and
 * roles become parts of channel names (`user:{id}`, `role:{role}`), so they use
 * the channel id alphabet.
 */
export const ID_PATTERN = /^[A-Za-z0-9_.:@=+-]{1,128}$/;
/**
 * Tenant ids also scope every channel name internally, so no separators. `-`
 * alone is reserved: the audit trail files what belongs to no tenant (refused
 * handshakes and API keys) under it, and a tenant of that name read them.
 */
export const TENANT_PATTERN = /^(?!-$)[A-Za-z0-9_.-]{1,64}$/;
/** Channel kinds: `user`, `tenant`, `conversation`, or app-defined like `patient`. */
export const CHANNEL_KIND_PATTERN = /^[a-z][a-z0-9_-]{0,31}$/;
/** Full channel name: `kind:id`, at most 164 characters (Pusher's limit). */
export const CHANNEL_PATTERN = /^[a-z][a-z0-9_-]{0,31}:[A-Za-z0-9_.:@=+-]{1,128}$/;
export const CHANNEL_MAX_LENGTH = 164;

export const userIdSchema = z.string().regex(ID_PATTERN, "must be 1-128 characters of A-Z a-z 0-9 _ . : @ = + -");
export const tenantIdSchema = z.string().regex(TENANT_PATTERN, "must be 1-64 characters of A-Z a-z 0-9 _ . -");
export const channelSchema = z
  .string()
  .max(CHANNEL_MAX_LENGTH)
  .regex(CHANNEL_PATTERN, "must be kind:id, e.g. patient:42");

/** Splits a valid channel name into its kind and id. */
export function splitChannel(channel: string): { kind: string; id: string } {
  const at = channel.indexOf(":");
  return { kind: channel.slice(0, at), id: channel.slice(at + 1) };
}

/** The form of the ids the server makes (conversations, messages, calls, notifications): a UUID. */
const SERVER_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An id of something the server made (`kind`: "conversation", "message", ...).
 * PROTOCOL.md gives ids no format, so a string that is not one of the
 * server's UUIDs is not an invalid payload: it names nothing. Its issue carries
 * `params.unknownId`, and the server answers `not_found`, as for a UUID it
 * does not know. A non-string, an empty or an overlong one is `bad_request`.
 */
export function serverIdSchema(kind: string) {
  return z
    .string({ message: `must be a ${kind} id` })
    .min(1, `must be a ${kind} id`)
    .max(200, `must be a ${kind} id`)
    .refine((id) => SERVER_ID_PATTERN.test(id), { message: `no such ${kind}`, params: { unknownId: kind } });
}

/**
 * An id of something the server made, named inside a payload as a reference
 * (a reply's `replyTo`) rather than as what the request acts on: one that names
 * nothing makes the payload invalid (`bad_request`), UUID or not, as a UUID
 * of no message of the conversation does. Non-UUIDs never reach the database.
 */
export function serverReferenceSchema(refusal: string) {
  return z.string({ message: refusal }).min(1, refusal).max(200, refusal).regex(SERVER_ID_PATTERN, refusal);
}
