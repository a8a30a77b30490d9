import type { RateLimitRule } from "../../ports/rate-limiter.js";

/**
 * Requests are limited per family, per user: a chatty client typing fast must
 * not eat the budget of its own message sends, and a signaling burst (ICE
 * candidates come in dozens) needs more room than call set-up.
 */
export const REQUEST_FAMILIES: Record<string, string> = {
  "message:send": "message",
  "message:edit": "message",
  "message:delete": "message",
  "typing:start": "typing",
  "typing:stop": "typing",
  "message:delivered": "receipt",
  "message:read": "receipt",
  "message:history": "read",
  "conversation:list": "read",
  "conversation:get": "read",
  "room:participants": "read",
  "room:join": "room",
  "room:leave": "room",
  "conversation:create": "conversation",
  "conversation:addParticipants": "conversation",
  "conversation:removeParticipants": "conversation",
  "conversation:leave": "conversation",
  "call:initiate": "call",
  "call:accept": "call",
  "call:reject": "call",
  "call:end": "call",
  "call:signal": "signal",
  "call:quality": "quality",
  "notification:list": "read",
  // REST only (GET /v1/calls): no socket request has this name. POST and DELETE /v1/push-subscriptions
  // spend "push:subscribe" and "push:unsubscribe", which are in no family here and so count as "other".
  "call:history": "read",
  "notification:getUnreadCount": "read",
  "notification:read": "receipt",
  "notification:readAll": "receipt",
  "notification:subscribe": "room",
  "notification:unsubscribe": "room",
  "crisis:acknowledge": "receipt",
  "crisis:resolve": "receipt",
  "crisis:list": "read",
};

/** Defaults (`RATE_LIMITS` overrides any of them): points per window. */
export const DEFAULT_RATE_LIMITS: Record<string, RateLimitRule> = {
  message: { points: 30, durationMs: 10_000 },
  typing: { points: 40, durationMs: 10_000 },
  receipt: { points: 100, durationMs: 10_000 },
  read: { points: 100, durationMs: 10_000 },
  room: { points: 50, durationMs: 10_000 },
  conversation: { points: 20, durationMs: 10_000 },
  call: { points: 20, durationMs: 10_000 },
  signal: { points: 400, durationMs: 10_000 },
  quality: { points: 30, durationMs: 10_000 },
  other: { points: 100, durationMs: 10_000 },
  /** Handshakes per client IP (Socket.IO, plain WebSocket). */
  connect: { points: 60, durationMs: 60_000 },
};

export function familyOf(event: string): string {
  return REQUEST_FAMILIES[event] ?? "other";
}
