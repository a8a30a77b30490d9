import { z } from "zod";
import { beforeIdNeedsBefore, pageCursor } from "./paging.js";
import { isStorableJson, storedText, UNSTORABLE_TEXT_MESSAGE } from "./text.js";
import { serverIdSchema, userIdSchema } from "../identifiers.js";

export const NOTIFICATION_PRIORITIES = ["low", "normal", "high", "critical"] as const;
export type NotificationPriority = (typeof NOTIFICATION_PRIORITIES)[number];

/** Topic names share the channel id alphabet: a topic's live channel is `topic:{name}`. */
export const topicSchema = z.string().regex(/^[A-Za-z0-9_.:@=+-]{1,128}$/, "must be 1-128 characters of A-Z a-z 0-9 _ . : @ = + -");
export const notificationIdSchema = serverIdSchema("notification");

/** `POST /v1/notifications` and the server SDK's `notify`. */
export const notificationCreateSchema = z
  .object({
    userIds: z.array(userIdSchema).min(1).max(1000).optional(),
    topic: topicSchema.optional(),
    type: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, "must be 1-64 characters of A-Z a-z 0-9 _ . : -"),
    title: storedText().trim().min(1).max(200),
    body: storedText().max(2000).default(""),
    priority: z.enum(NOTIFICATION_PRIORITIES).default("normal"),
    data: z.record(z.string(), z.unknown()).refine(isStorableJson, UNSTORABLE_TEXT_MESSAGE).optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((n) => (n.userIds === undefined) !== (n.topic === undefined), { message: "give either userIds or topic", path: ["userIds"] });

/** `before` is the previous page's last `createdAt`, `beforeId` that notification's id (see {@link pageCursor}). */
export const notificationListSchema = z.object({ unreadOnly: z.boolean().optional(), ...pageCursor("notification") }).refine(...beforeIdNeedsBefore);

export const notificationReadSchema = z.object({ id: notificationIdSchema });
export const topicsSchema = z.object({ topics: z.array(topicSchema).min(1).max(100) });

export type NotificationCreatePayload = z.input<typeof notificationCreateSchema>;
export type NotificationListPayload = z.infer<typeof notificationListSchema>;

export interface Notification {
  id: string;
  userId: string;
  type: string;
  title: string;
  body: string;
  priority: NotificationPriority;
  data?: Record<string, unknown>;
  topic?: string;
  createdAt: string;
  readAt?: string;
  expiresAt?: string;
}
