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

/** The parts of a zod issue read here (`params` is set on custom issues, e.g. by `serverIdSchema`). */
interface Issue {
  path: readonly PropertyKey[];
  message: string;
  params?: Record<string, unknown>;
}

/** A failed zod parse as the `details` of a `bad_request`: one `{ path, message }` per issue. */
export function issueDetails(error: { issues: readonly Issue[] }): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message }));
}

/**
 * A payload its schema refused, as the error to answer: `not_found` when all
 * that is wrong is an id the server never made (`serverIdSchema`: a string
 * that is not one of its UUIDs names nothing), else `bad_request` with the
 * issues as details.
 */
export function refusedPayload(error: { issues: readonly Issue[] }, message: string): AppError {
  const issues = error.issues;
  if (issues.length > 0 && issues.every((issue) => issue.params?.unknownId !== undefined)) return new AppError("not_found", issues[0]!.message);
  return new AppError("bad_request", message, issueDetails(error));
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
