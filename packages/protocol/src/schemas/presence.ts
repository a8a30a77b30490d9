import { z } from "zod";
import { channelSchema, userIdSchema } from "../identifiers.js";
import { storedText } from "./text.js";

/** What others see of a user (PROTOCOL.md section 5). */
export const PRESENCE_STATUSES = ["online", "away", "busy", "in_call", "offline"] as const;
export type PresenceStatus = (typeof PRESENCE_STATUSES)[number];

/**
 * What a user may choose with `presence:setStatus`: `online` returns to the
 * automatic status, `offline` means "appear offline". `in_call` is not here:
 * only the call service sets it.
 */
export const CHOSEN_STATUSES = ["online", "away", "busy", "offline"] as const;
export type ChosenStatus = (typeof CHOSEN_STATUSES)[number];

/** Most user ids one presence request may name. */
export const PRESENCE_MAX_USER_IDS = 500;
export const CUSTOM_TEXT_MAX_LENGTH = 140;
export const MOOD_LABEL_MAX_LENGTH = 64;

export const moodSchema = z.object({
  value: z.number().int().min(1, "must be 1..5").max(5, "must be 1..5"),
  label: storedText().trim().min(1).max(MOOD_LABEL_MAX_LENGTH),
});

/** A custom status; an object with neither field clears it, like `null`. */
export const customStatusSchema = z.object({
  text: storedText().trim().min(1).max(CUSTOM_TEXT_MAX_LENGTH).optional(),
  mood: moodSchema.optional(),
});

export const presenceSetStatusSchema = z.object({
  status: z.enum(CHOSEN_STATUSES, { error: "must be online, away, busy or offline (in_call is set by calls)" }),
  /** Omitted: keep the current custom status; `null`: clear it. */
  custom: customStatusSchema.nullable().optional(),
});

const userIdsSchema = z.array(userIdSchema).min(1).max(PRESENCE_MAX_USER_IDS);

export const presenceGetSchema = z.object({ userIds: userIdsSchema });
export const presenceSubscribeSchema = presenceGetSchema;
export const presenceUnsubscribeSchema = presenceGetSchema;

/** `resource` names a record the way channels are named, e.g. `patient:42`. */
export const presenceSetActivitySchema = z.object({ resource: channelSchema, active: z.boolean() });
export const presenceViewersSchema = z.object({ resource: channelSchema });

export type Mood = z.infer<typeof moodSchema>;
export type PresenceSetStatusPayload = z.input<typeof presenceSetStatusSchema>;
export type PresenceUsersPayload = z.input<typeof presenceGetSchema>;
export type PresenceSetActivityPayload = z.input<typeof presenceSetActivitySchema>;
export type PresenceViewersPayload = z.input<typeof presenceViewersSchema>;

/** A custom status as stored and sent: only the fields that are set. */
export interface CustomStatus {
  text?: string;
  mood?: Mood;
}

/** One user's presence: ack data of presence requests and the `presence:changed` event. */
export interface PresenceInfo {
  userId: string;
  status: PresenceStatus;
  /** ISO time the user was last seen (last device left, or they chose to appear offline); null if never. */
  lastSeen: string | null;
  custom: CustomStatus | null;
}

/** One user viewing a resource; `since` is when their first device started viewing it (ISO). */
export interface Viewer {
  userId: string;
  name: string;
  since: string;
}

/** Sent to the other viewers of a resource when a user starts or stops viewing it. */
export interface PresenceActivityEvent {
  resource: string;
  userId: string;
  name: string;
  active: boolean;
}
