import type { Call, CallQualityPayload, CallSignalPayload } from "@switchboard/protocol";
import type { Connection } from "../connection.js";
import type { ServerEventData, Unsubscribe } from "../types.js";

export type CallEventName =
  | "call:incoming"
  | "call:accepted"
  | "call:rejected"
  | "call:ended"
  | "call:missed"
  | "call:signal"
  | "call:qualityIssue";

/** Call signaling requests and events (PROTOCOL.md section 7). For the WebRTC side, see {@link CallSession}. */
export class CallsService {
  constructor(private readonly connection: Connection) {}

  /** Rings the callees; resolves with the call (already `ended` when every callee was busy). */
  async initiate(calleeIds: string[], media: "audio" | "video", conversationId?: string): Promise<Call> {
    return (await this.connection.request("call:initiate", { calleeIds, media, ...(conversationId !== undefined && { conversationId }) })).call;
  }

  async accept(callId: string): Promise<Call> {
    return (await this.connection.request("call:accept", { callId })).call;
  }

  async reject(callId: string, reason?: string): Promise<void> {
    await this.connection.request("call:reject", { callId, ...(reason !== undefined && { reason }) });
  }

  async end(callId: string): Promise<void> {
    await this.connection.request("call:end", { callId });
  }

  /** Relays an offer, answer or ICE candidate to another participant. */
  async signal(callId: string, to: string, signal: CallSignalPayload["signal"]): Promise<void> {
    await this.connection.request("call:signal", { callId, to, signal });
  }

  async reportQuality(sample: CallQualityPayload): Promise<void> {
    await this.connection.request("call:quality", sample);
  }

  on<K extends CallEventName>(event: K, handler: (data: ServerEventData<K>) => void): Unsubscribe {
    return this.connection.on(event, handler);
  }
}
