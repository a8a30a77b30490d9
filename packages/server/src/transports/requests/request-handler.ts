import type { z } from "zod";
import type { Connection } from "../../core/connection.js";

/**
 * One client request: its zod schema and the core call it makes. Transports look
 * requests up by event name, parse the payload with `schema`, and only then call
 * `handle`; a handler never sees unvalidated input.
 */
export interface RequestHandler<S extends z.ZodType = z.ZodType, R = unknown> {
  schema: S;
  handle(connection: Connection, payload: z.infer<S>): Promise<R>;
}

/** Event name -> handler, for one family of requests (rooms, chat, presence...). */
export type RequestHandlers = Record<string, RequestHandler>;

/** Typed constructor: keeps `payload` inferred from the schema. */
export function defineRequest<S extends z.ZodType, R>(schema: S, handle: (connection: Connection, payload: z.infer<S>) => Promise<R>): RequestHandler {
  return { schema, handle } as RequestHandler;
}
