import type { ErrorBody, ErrorCode } from "@switchboard/protocol";
import { AppError, toAppError } from "../../core/errors.js";
import { DependencyUnavailableError } from "../../ports/errors.js";

/** How each error code of the catalogue reads as an HTTP status. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  payload_too_large: 413,
  unavailable: 503,
  internal: 500,
};

/** The error code for an HTTP status fastify produced on its own (parse errors, body limits). */
export function codeForStatus(status: number): ErrorCode {
  if (status === 413) return "payload_too_large";
  if (status === 404) return "not_found";
  if (status === 409) return "conflict";
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 429) return "rate_limited";
  if (status === 503) return "unavailable";
  if (status >= 400 && status < 500) return "bad_request";
  return "internal";
}

/** How an error of any origin leaves over HTTP: its status and `{ error: { code, message } }`. */
export interface HttpErrorAnswer {
  status: number;
  body: { error: ErrorBody };
  /** An unexpected error (a 500): worth a log line, and its message stays on the server. */
  internal: boolean;
}

/**
 * The answer to an error thrown while serving a request: catalogue errors
 * (and an unavailable dependency) by their code, errors fastify raises with a
 * status (parse errors, body limits, media types) by the code that status
 * reads as ({@link codeForStatus}) and that code's own status, anything else
 * 500 `internal` with a generic message.
 */
export function httpErrorAnswer(error: unknown): HttpErrorAnswer {
  if (error instanceof AppError || error instanceof DependencyUnavailableError) {
    const appError = toAppError(error);
    return { status: HTTP_STATUS[appError.code], body: { error: appError.toBody() }, internal: false };
  }
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  const code = codeForStatus(typeof statusCode === "number" ? statusCode : 500);
  const message = code === "internal" ? "internal error" : (error as Error).message;
  // The status is the code's own, as for every other error: a 415 or 414 from fastify reads 400 `bad_request`.
  return { status: HTTP_STATUS[code], body: { error: { code, message } }, internal: code === "internal" };
}
