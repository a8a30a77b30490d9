import { CHANNEL_MAX_LENGTH, CHANNEL_PATTERN } from "@switchboard/protocol";

/**
 * Pusher channel names and the Switchboard channels they are aliases of
 * (docs/protocol.md section 9). Pure functions, so the mapping is tested on its own.
 *
 * | Pusher name | Switchboard channel (in the app's tenant) |
 * |---|---|
 * | `private-{kind}.{id}`, `presence-{kind}.{id}` (first `.` splits) | `{kind}:{id}` |
 * | `private-…` / `presence-…` / `private-encrypted-…` otherwise | `pusher:{full name}` |
 * | `topic.{name}` | `topic:{name}` |
 * | any other public `{name}` without `.` | `pusher:{name}` |
 * | `#server-to-user-{id}` (after `pusher:signin` as `{id}`) | `user:{id}` |
 *
 * Several Pusher names can alias one channel (`topic.news`, `private-topic.news`
 * and `presence-topic.news` are all `topic:news`). A public name can never reach
 * an authorized kind such as `patient:42`: public names map only to `topic:` and
 * `pusher:` channels whose id does not start with `private-` or `presence-`.
 */

export type PusherChannelType = "public" | "private" | "presence" | "user";

export interface PusherChannel {
  /** The Pusher name, as the client or the HTTP API wrote it. */
  name: string;
  type: PusherChannelType;
  /** The Switchboard channel it is an alias of. */
  channel: string;
  /** `private-encrypted-`: end-to-end encrypted payloads, no client events. */
  encrypted: boolean;
  /** For `#server-to-user-{id}`: the user the channel belongs to. */
  userId?: string;
}

export type PusherChannelResult = { ok: true; channel: PusherChannel } | { ok: false; reason: string };

/** Pusher's own channel name alphabet. */
const PUSHER_NAME = /^[A-Za-z0-9_\-=@,.;]+$/;
export const USER_CHANNEL_PREFIX = "#server-to-user-";
export const PUSHER_KIND = "pusher";
/** Pusher's channel name limit, which is also Switchboard's. */
export const PUSHER_NAME_MAX_LENGTH = CHANNEL_MAX_LENGTH;

/** Maps a Pusher channel name to its Switchboard channel, or says why it is refused. */
export function mapPusherChannel(name: string): PusherChannelResult {
  if (name.length === 0 || name.length > PUSHER_NAME_MAX_LENGTH) {
    return refuse(`channel names are 1-${PUSHER_NAME_MAX_LENGTH} characters`);
  }
  if (name.startsWith(USER_CHANNEL_PREFIX)) {
    const userId = name.slice(USER_CHANNEL_PREFIX.length);
    return accept(name, "user", `user:${userId}`, { userId });
  }
  if (!PUSHER_NAME.test(name)) return refuse("channel names use only A-Z a-z 0-9 _ - = @ , . ;");
  if (name.startsWith("presence-") || name.startsWith("private-")) {
    const type = name.startsWith("presence-") ? "presence" : "private";
    const encrypted = name.startsWith("private-encrypted-");
    const alias = encrypted ? undefined : dottedChannel(name.slice(type.length + 1));
    return accept(name, type, alias ?? `${PUSHER_KIND}:${name}`, { encrypted });
  }
  if (name.startsWith("topic.")) return accept(name, "public", `topic:${name.slice("topic.".length)}`);
  if (name.includes(".")) return refuse("a public channel name may contain '.' only as topic.{name}");
  return accept(name, "public", `${PUSHER_KIND}:${name}`);
}

/**
 * The presence name Pusher webhooks and member events use for a Switchboard
 * channel, or undefined when the channel has none.
 */
export function presenceNameOf(channel: string): string | undefined {
  const at = channel.indexOf(":");
  const kind = channel.slice(0, at);
  const id = channel.slice(at + 1);
  const name = kind === PUSHER_KIND ? id : `presence-${kind}.${id}`;
  if (!name.startsWith("presence-")) return undefined;
  const mapped = mapPusherChannel(name);
  return mapped.ok && mapped.channel.type === "presence" && mapped.channel.channel === channel ? name : undefined;
}

/** Whether a Socket.IO user may join `pusher:{id}`: only the aliases of public Pusher channels. */
export function isPublicPusherId(id: string): boolean {
  return !id.startsWith("private-") && !id.startsWith("presence-");
}

export function isValidSocketId(value: string): boolean {
  return /^\d{1,20}\.\d{1,20}$/.test(value);
}

/** `{kind}.{id}` as `{kind}:{id}` when that is a valid channel of an ordinary kind. */
function dottedChannel(rest: string): string | undefined {
  const dot = rest.indexOf(".");
  if (dot <= 0) return undefined;
  const kind = rest.slice(0, dot);
  const channel = `${kind}:${rest.slice(dot + 1)}`;
  return kind !== PUSHER_KIND && isChannel(channel) ? channel : undefined;
}

function isChannel(channel: string): boolean {
  return channel.length <= CHANNEL_MAX_LENGTH && CHANNEL_PATTERN.test(channel);
}

function accept(name: string, type: PusherChannelType, channel: string, extra: { encrypted?: boolean; userId?: string } = {}): PusherChannelResult {
  if (!isChannel(channel)) return refuse(`${name} does not map to a valid channel`);
  return { ok: true, channel: { name, type, channel, encrypted: extra.encrypted ?? false, ...(extra.userId !== undefined && { userId: extra.userId }) } };
}

function refuse(reason: string): PusherChannelResult {
  return { ok: false, reason };
}
