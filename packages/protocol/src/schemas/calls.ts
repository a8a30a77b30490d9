import { z } from "zod";
import { beforeIdNeedsBefore, pageCursor } from "./paging.js";
import { serverIdSchema, userIdSchema } from "../identifiers.js";
import { conversationIdSchema } from "./chat.js";
import { storedText } from "./text.js";

/** Most callees one call may ring. */
export const CALL_MAX_CALLEES = 16;

export const callIdSchema = serverIdSchema("call");

export const callInitiateSchema = z.object({
  calleeIds: z.array(userIdSchema).min(1).max(CALL_MAX_CALLEES),
  media: z.enum(["audio", "video"]),
  conversationId: conversationIdSchema.optional(),
});

export const callRefSchema = z.object({ callId: callIdSchema });

export const callRejectSchema = z.object({
  callId: callIdSchema,
  reason: storedText().trim().min(1).max(200).optional(),
});

/** What a browser's `RTCIceCandidate.toJSON()` gives; each field bounded, other fields dropped. */
const iceCandidateInit = z.object({
  candidate: z.string().max(2_000),
  sdpMid: z.string().max(256).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(65_535).nullable().optional(),
  usernameFragment: z.string().max(256).nullable().optional(),
});

/**
 * SDP and ICE payloads are relayed, not interpreted; the caps keep frames
 * bounded. An offer or answer carries its `sdp`; an ICE signal its `candidate`
 * (a string, a candidate init object, or `null` for the end of candidates).
 */
export const callSignalSchema = z.object({
  callId: callIdSchema,
  to: userIdSchema,
  signal: z
    .object({
      type: z.enum(["offer", "answer", "ice"]),
      sdp: z.string().max(32_000).optional(),
      candidate: z.union([z.string().max(2_000), iceCandidateInit]).nullable().optional(),
    })
    .refine((signal) => (signal.type === "ice" ? signal.candidate !== undefined : signal.sdp !== undefined), {
      message: "an offer or answer needs sdp, an ice signal needs candidate (null ends the candidates)",
    }),
});

export const callQualitySchema = z.object({
  callId: callIdSchema,
  rttMs: z.number().min(0).max(600_000),
  jitterMs: z.number().min(0).max(600_000),
  packetLossPct: z.number().min(0).max(100),
  bitrateKbps: z.number().min(0).max(10_000_000),
});

/** `before` is the previous page's last `createdAt`, `beforeId` that call's id (see {@link pageCursor}). */
export const callHistorySchema = z.object(pageCursor("call")).refine(...beforeIdNeedsBefore);

export type CallInitiatePayload = z.infer<typeof callInitiateSchema>;
export type CallRejectPayload = z.infer<typeof callRejectSchema>;
export type CallSignalPayload = z.infer<typeof callSignalSchema>;
export type CallQualityPayload = z.infer<typeof callQualitySchema>;

export type CallState = "ringing" | "active" | "ended";
export type CallEndReason = "ended" | "cancelled" | "rejected" | "busy" | "timeout" | "disconnected";

export interface Call {
  id: string;
  conversationId?: string;
  callerId: string;
  calleeIds: string[];
  media: "audio" | "video";
  state: CallState;
  createdAt: string;
  /** When the first callee accepted. */
  startedAt?: string;
  endedAt?: string;
  endReason?: CallEndReason;
}

/** Quality over the call's samples, per metric. */
export interface CallQualitySummary {
  samples: number;
  rttMs: { avg: number; max: number };
  jitterMs: { avg: number; max: number };
  packetLossPct: { avg: number; max: number };
  bitrateKbps: { avg: number; min: number };
}

/** A call as listed by `GET /v1/calls`. */
export interface CallRecord extends Call {
  durationMs: number | null;
  /** Per participant: joined, rejected, missed, busy... */
  participants: { userId: string; role: "caller" | "callee"; status: string }[];
  quality: CallQualitySummary | null;
}

export interface CallSignalEvent {
  callId: string;
  from: string;
  signal: CallSignalPayload["signal"];
}

export interface CallQualityIssueEvent {
  callId: string;
  userId: string;
  metric: "rttMs" | "jitterMs" | "packetLossPct";
  value: number;
}
