import { channelSchema } from "@switchboard/protocol";
import { z } from "zod";

/** Optional `id` on a client frame is echoed on its answer, for correlation. */
const frameId = z.union([z.string().max(64), z.number().int()]).optional();

/** Frames a plain WebSocket client may send. */
export const clientFrameSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ping"), id: frameId }),
  z.object({ type: z.literal("subscribe"), id: frameId, channel: channelSchema }),
  z.object({ type: z.literal("unsubscribe"), id: frameId, channel: channelSchema }),
  /** Any Socket.IO request (`message:send`, `presence:get`, ...) with the same payload and ack. */
  z.object({ type: z.literal("request"), id: frameId, event: z.string().min(1).max(100), payload: z.unknown().optional() }),
]);

export type ClientFrame = z.infer<typeof clientFrameSchema>;

/**
 * `{ id }` of a frame that failed validation, when its `id` itself is valid, so
 * the client can still match the error to its request; `{}` otherwise.
 */
export function echoedId(json: unknown): { id?: string | number } {
  const id = typeof json === "object" && json !== null ? frameId.safeParse((json as { id?: unknown }).id) : undefined;
  return id?.success && id.data !== undefined ? { id: id.data } : {};
}
