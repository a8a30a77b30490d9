import { pino, type Logger } from "pino";

/**
 * Structured logger. Tokens never reach the log: authorization headers, token
 * fields and `token=` query parameters are redacted wherever they appear.
 */
export function createLogger(level: string, nodeId: string): Logger {
  return pino({
    level,
    base: { node: nodeId },
    redact: {
      paths: ["token", "*.token", "headers.authorization", "*.headers.authorization", "auth", "*.auth", "secret", "*.secret"],
      censor: "[redacted]",
    },
  });
}

/** A URL fit for a log line: query values of `token` (and similar) replaced. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|auth|access_token|key)=)[^&]*/gi, "$1[redacted]");
}
