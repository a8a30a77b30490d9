import type { AuthErrorCode, ErrorBody, ErrorCode } from "@switchboard/protocol";

/**
 * Codes a {@link SwitchboardError} carries: the protocol's error catalogue, plus
 * the handshake refusal codes for connection errors.
 */
export type SwitchboardErrorCode = ErrorCode | AuthErrorCode;

/**
 * A failed request or connection. `code` is the protocol's error code
 * (`bad_request`, `forbidden`, `not_found`, `conflict`, `rate_limited`, ...);
 * requests that could not reach the server (offline, timed out) reject with
 * `unavailable`, which is always safe to retry.
 *
 * @example
 * try { await client.chat.send(id, "hi"); }
 * catch (err) { if (err instanceof SwitchboardError && err.code === "forbidden") ... }
 */
export class SwitchboardError extends Error {
  override readonly name = "SwitchboardError";
  constructor(
    readonly code: SwitchboardErrorCode,
    message: string,
    /** The server's `details` (e.g. `[{ path, message }]` for `bad_request`, `{ retryAfterMs }` for `rate_limited`). */
    readonly details?: unknown,
  ) {
    super(message);
  }

  /** Builds the error from an ack's error body. */
  static fromBody(body: ErrorBody): SwitchboardError {
    return new SwitchboardError(body.code, body.message, body.details);
  }

  /** Whether retrying the same request later can succeed. */
  get retryable(): boolean {
    return this.code === "unavailable" || this.code === "rate_limited";
  }
}
