import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * Pusher's HMAC-SHA256 signatures (channel authorization, user sign-in, HTTP
 * API requests, webhooks). Every comparison checks the length first and then
 * compares in constant time.
 */

export function hmacHex(secret: string, data: string): string {
  return createHmac("sha256", secret).update(data, "utf8").digest("hex");
}

export function md5Hex(body: string): string {
  return createHash("md5").update(body, "utf8").digest("hex");
}

/** Constant-time string equality; different lengths are unequal without comparing. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  if (left.length !== right.length) return false;
  return timingSafeEqual(left, right);
}

export interface SigningApp {
  key: string;
  secret: string;
}

/** `auth` of a private or presence subscription: `key:HMAC(socket_id:channel[:channel_data])`. */
export function channelAuth(app: SigningApp, socketId: string, channel: string, channelData?: string): string {
  const signed = channelData === undefined ? `${socketId}:${channel}` : `${socketId}:${channel}:${channelData}`;
  return `${app.key}:${hmacHex(app.secret, signed)}`;
}

export function verifyChannelAuth(app: SigningApp, socketId: string, channel: string, auth: string, channelData?: string): boolean {
  return safeEqual(auth, channelAuth(app, socketId, channel, channelData));
}

/** `auth` of `pusher:signin`: `key:HMAC(socket_id::user::user_data)`. */
export function userAuth(app: SigningApp, socketId: string, userData: string): string {
  return `${app.key}:${hmacHex(app.secret, `${socketId}::user::${userData}`)}`;
}

export function verifyUserAuth(app: SigningApp, socketId: string, userData: string, auth: string): boolean {
  return safeEqual(auth, userAuth(app, socketId, userData));
}

/**
 * The string an HTTP API request signs: `METHOD\nPATH\nquery`, the query being
 * every parameter but `auth_signature`, keys lower-cased, sorted by key, as
 * `key=value` joined with `&` (values as sent, not re-encoded).
 */
export function requestSigningString(method: string, path: string, query: Record<string, string>): string {
  const pairs = Object.entries(query)
    .filter(([key]) => key !== "auth_signature")
    .map(([key, value]) => [key.toLowerCase(), value] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`);
  return [method.toUpperCase(), path, pairs.join("&")].join("\n");
}
