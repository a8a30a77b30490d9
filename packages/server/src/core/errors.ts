import type { ErrorBody, ErrorCode } from "@switchboard/protocol";
import { DependencyUnavailableError } from "../ports/errors.js";

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

/** A failed zod parse as the `details` of a `bad_request`: one `{ path, message }` per issue. */
export function issueDetails(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message }));
}

/**
 * Maps anything thrown to the catalogue: a dependency outage becomes
 * `unavailable`; anything else unexpected becomes `internal`, without leaking its message.
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof DependencyUnavailableError) return new AppError("unavailable", `${err.dependency} is unavailable; retry later`);
  return new AppError("internal", "internal error");
}
