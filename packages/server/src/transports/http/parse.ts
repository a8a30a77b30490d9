import type { z } from "zod";
import { refusedPayload } from "../../core/errors.js";

/**
 * Parses an HTTP body or query with a protocol schema; failures are the same
 * `bad_request` (with field details), or `not_found` for an id the server never
 * made, that a Socket.IO client gets.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const parsed = schema.safeParse(input ?? {});
  if (!parsed.success) throw refusedPayload(parsed.error, "invalid request");
  return parsed.data;
}

/** Query-string numbers arrive as text; a non-number stays invalid so the schema rejects it. */
export function numberParam(value: unknown): number | undefined {
  if (value === undefined || value === "") return undefined;
  return typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
}
