import type { Call, CallEndReason, CallRecord } from "@switchboard/protocol";

export type ParticipantStatus = "ringing" | "joined" | "rejected" | "missed" | "busy" | "left";

export interface CallParticipant {
  userId: string;
  role: "caller" | "callee";
  status: ParticipantStatus;
}

export interface CallWithParticipants {
  tenantId: string;
  call: Call;
  participants: CallParticipant[];
}

export interface NewCall {
  id: string;
  tenantId: string;
  conversationId?: string;
  callerId: string;
  media: "audio" | "video";
  now: Date;
  ringDeadline: Date;
  calleeIds: string[];
}

export interface EndedCall {
  call: Call;
  durationMs: number;
  /** Callees who were still ringing: they missed it. */
  missed: string[];
  /** Participants who were in the call. */
  joined: string[];
  participants: CallParticipant[];
}

/**
 * Durable call state. Every transition is atomic and conditional, so with
 * several nodes (or a timer racing a request) exactly one caller wins it and the
 * others see `null` / `false`.
 */
export interface CallStore {
  /**
   * Creates a ringing call; callees already in another open call are recorded
   * `busy`. Null when the caller is already `joined` in an open call (checked and
   * written atomically, against concurrent calls and accepts of the same users).
   */
  create(input: NewCall): Promise<CallWithParticipants | null>;
  get(tenantId: string, callId: string): Promise<CallWithParticipants | null>;
  /**
   * ringing -> joined for one callee; the call becomes active. `not_ringing` when
   * the callee is not ringing or the call ended; `busy` when the callee is already
   * `joined` in another open call (checked and written atomically, as in `create`).
   */
  accept(tenantId: string, callId: string, userId: string, now: Date): Promise<"accepted" | "busy" | "not_ringing">;
  /** Moves a participant from one of `from` to `to`; false when it was not in `from` or the call ended. */
  transition(tenantId: string, callId: string, userId: string, from: ParticipantStatus[], to: ParticipantStatus): Promise<boolean>;
  /** Ends the call (ringing -> missed, joined -> left); null when it had already ended. */
  end(tenantId: string, callId: string, reason: CallEndReason, now: Date): Promise<EndedCall | null>;
  /** Callees of a call still ringing past its deadline become `missed`; returns them. */
  expireRinging(tenantId: string, callId: string): Promise<string[]>;
  /** Open calls whose ring deadline has passed (any tenant): for the sweeper. */
  overdue(now: Date, limit: number): Promise<{ tenantId: string; callId: string }[]>;
  /** `joined` participants of open calls (any tenant), at most `limit`, and whether the call is active (answered): for the disconnect sweep and the restart. */
  joinedInOpenCalls(limit: number): Promise<{ tenantId: string; callId: string; userId: string; active: boolean }[]>;
  /** Open calls the user is `joined` in. */
  openCallsOf(tenantId: string, userId: string): Promise<string[]>;
  addQualitySample(tenantId: string, callId: string, userId: string, sample: { rttMs: number; jitterMs: number; packetLossPct: number; bitrateKbps: number }, now: Date): Promise<void>;
  history(tenantId: string, userId: string, query: { limit: number; before?: string; beforeId?: string }): Promise<CallRecord[]>;
}
