import type { ErrorCode } from "@switchboard/protocol";

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
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 429) return "rate_limited";
  if (status === 503) return "unavailable";
  if (status >= 400 && status < 500) return "bad_request";
  return "internal";
}
