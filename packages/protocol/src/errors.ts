/**
 * The one catalogue of error codes. Every transport maps these codes to its own
 * form (Socket.IO ack, HTTP status, Pusher 4xxx, WebSocket close code); the codes
 * themselves never change meaning.
 */
export const ERROR_CODES = [
  "bad_request",
  "unauthorized",
  "forbidden",
  "not_found",
  "conflict",
  "rate_limited",
  "payload_too_large",
  "unavailable",
  "internal",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes a refused handshake carries in `connect_error`'s `err.data.code`. */
export const AUTH_ERROR_CODES = ["token_missing", "token_invalid", "token_expired"] as const;
export type AuthErrorCode = (typeof AUTH_ERROR_CODES)[number];

/** The error half of every acknowledgement. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/** Successful acknowledgement. */
export interface AckOk<T = unknown> {
  ok: true;
  data?: T;
}

/** Failed acknowledgement. */
export interface AckError {
  ok: false;
  error: ErrorBody;
}

/** What every request's ack callback receives. */
export type Ack<T = unknown> = AckOk<T> | AckError;

/** `err.data` of a refused Socket.IO handshake. */
export interface ConnectErrorData {
  code: AuthErrorCode;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}
