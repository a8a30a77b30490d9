import { channelSchema, tenantIdSchema } from "@switchboard/protocol";
import { z } from "zod";

/** `schema.table` or `table`, lowercase identifiers: the tables `switchboard sql trigger` accepts. */
export const TABLE_PATTERN = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;

/** The table a generated trigger writes events too large for NOTIFY to (see `triggerSql`). */
export const OUTBOX_TABLE = "switchboard_event_outbox";

/** A NOTIFY payload carrying the event itself: `{ tenant, channel | channels, event, data }`. */
export const notifyEventSchema = z.object({
  tenant: tenantIdSchema,
  channel: channelSchema.optional(),
  channels: z.array(channelSchema).min(1).max(100).optional(),
  event: z.string(),
  data: z.unknown().optional(),
});

/**
 * A NOTIFY payload naming an event the trigger stored because it exceeded
 * NOTIFY's 8,000 bytes: `{ outbox: { schema, id } }`. Only tables named
 * {@link OUTBOX_TABLE} are ever read, and each row is taken (deleted) once.
 */
export const notifyOutboxSchema = z.object({
  outbox: z.object({ schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/), id: z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,19}$/)]) }),
});

export type NotifyEvent = z.infer<typeof notifyEventSchema>;
