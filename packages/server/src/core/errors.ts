import type { ErrorBody, ErrorCode } from "@switchboard/protocol";

/**
 * A failure with a stable code from the protocol's catalogue. Core services throw
 * it; each transport maps the code to its own form.
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "AppError";
  }

  toBody(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** Anything thrown that is not an {@link AppError} becomes `internal`, without leaking its message. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return new AppError("internal", "internal error");
}
