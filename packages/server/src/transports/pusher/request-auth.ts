import type { FastifyRequest } from "fastify";
import type { PusherApp } from "../../config/config.js";
import { AppError } from "../../core/errors.js";
import type { PusherApps } from "./pusher-apps.js";
import { hmacHex, md5Hex, requestSigningString, safeEqual } from "./signatures.js";

/** How far `auth_timestamp` may be from the server's clock, either way (Pusher's window). */
export const TIMESTAMP_WINDOW_SECONDS = 600;

/**
 * Authenticates a Pusher HTTP API request (Pusher's request signing):
 * `auth_key` is the app's key, `auth_version` is `1.0`, `auth_timestamp` is
 * within the window, `body_md5` matches the raw body when there is one, and
 * `auth_signature` is the HMAC-SHA256 of `METHOD\nPATH\nsorted query`.
 * Every failure, including an unknown app, is the same 401.
 *
 * @throws AppError `unauthorized`
 */
export function authenticateApiRequest(apps: PusherApps, request: FastifyRequest, now = Date.now()): PusherApp {
  const appId = (request.params as { appId?: string }).appId ?? "";
  const query = flatQuery(request.query);
  const app = apps.withId(appId);
  if (!app || !query) throw unauthorized("unknown app or malformed query");
  const { auth_key: key, auth_timestamp: timestamp, auth_version: version, auth_signature: signature, body_md5: bodyMd5 } = query;
  if (key === undefined || !safeEqual(key, app.key)) throw unauthorized("auth_key is not this app's key");
  if (version !== "1.0") throw unauthorized("auth_version must be 1.0");
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp) || Math.abs(now / 1000 - Number(timestamp)) > TIMESTAMP_WINDOW_SECONDS) {
    throw unauthorized(`auth_timestamp must be within ${TIMESTAMP_WINDOW_SECONDS} s of the server's time`);
  }
  const body = typeof request.body === "string" ? request.body : "";
  if (body.length > 0 && bodyMd5 === undefined) throw unauthorized("body_md5 is required with a body");
  if (bodyMd5 !== undefined && !safeEqual(bodyMd5, md5Hex(body))) throw unauthorized("body_md5 does not match the body");
  const path = request.url.split("?")[0]!;
  const expected = hmacHex(app.secret, requestSigningString(request.method, path, query));
  if (signature === undefined || !safeEqual(signature, expected)) throw unauthorized("auth_signature does not match");
  return app;
}

function unauthorized(reason: string): AppError {
  return new AppError("unauthorized", `invalid signature: ${reason}`);
}

/** The query as single string values; a repeated parameter makes it malformed. */
function flatQuery(query: unknown): Record<string, string> | undefined {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (typeof value !== "string") return undefined;
    flat[key] = value;
  }
  return flat;
}
