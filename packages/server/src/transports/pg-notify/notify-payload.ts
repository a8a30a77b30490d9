import { channelSchema, tenantIdSchema } from "@switchboard/protocol";
import { z } from "zod";

/** `schema.table` or `table`, lowercase identifiers: the only tables a row reference may name. */
export const TABLE_PATTERN = /^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/;

/**
 * A NOTIFY payload: `{ tenant, channel | channels, event, data }`, or, when the
 * row did not fit NOTIFY's 8,000 bytes, `{ tenant, channel, event, ref: { table, id } }`
 * and the bridge reads the row itself.
 */
export const notifyPayloadSchema = z.object({
  tenant: tenantIdSchema,
  channel: channelSchema.optional(),
  channels: z.array(channelSchema).min(1).max(100).optional(),
  event: z.string(),
  data: z.unknown().optional(),
  ref: z.object({ table: z.string().regex(TABLE_PATTERN), id: z.union([z.string(), z.number()]) }).optional(),
});

export type NotifyPayload = z.infer<typeof notifyPayloadSchema>;

/** Double-quotes each part of a validated `schema.table` name. */
export function quoteTable(table: string): string {
  return table
    .split(".")
    .map((part) => `"${part}"`)
    .join(".");
}
