import type { Call, CallSignalEvent } from "@switchboard/protocol";
import type { Connection } from "../connection.js";
import { Emitter } from "../emitter.js";
import { SwitchboardError } from "../errors.js";
import type { Unsubscribe } from "../types.js";
import type { CallsService } from "./calls.js";

/**
 * Where this device is in a call:
 * `idle` → (`outgoing` | `incoming`) → `connecting` (accepted; WebRTC
 * negotiating) → `connected` (media path up) → `ended`.
 */
export type CallPhase = "idle" | "outgoing" | "incoming" | "connecting" | "connected" | "ended";

export interface CallSnapshot {
  phase: CallPhase;
  call: Call | null;
  /** The other participant this device negotiates media with. */
  peerId: string | null;
  localStream: MediaStream | null;
  remoteStream: MediaStream | null;
  /** Why the last call ended (`ended`, `rejected`, `busy`, `timeout`, `missed`, `answered_elsewhere`, ...). */
  endReason: string | null;
  error: Error | null;
}

export interface CallSessionOptions {
  /** RTCPeerConnection configuration, e.g. `{ iceServers: [{ urls: "stun:..." }] }`. */
  rtc?: RTCConfiguration;
  /**
   * Gets the local media; default `navigator.mediaDevices.getUserMedia` with
   * audio, plus video for video calls. Return null for a call without local media.
   */
  getMedia?: (media: "audio" | "video") => Promise<MediaStream | null>;
}

const IDLE: CallSnapshot = { phase: "idle", call: null, peerId: null, localStream: null, remoteStream: null, endReason: null, error: null };

/**
 * One device's side of a one-to-one call, WebRTC included: the caller makes
 * the offer when a callee accepts, offer/answer/ICE travel through
 * `call:signal`, and a data channel is always opened so that the peers
 * connect even without camera or microphone. Browser only (needs
 * RTCPeerConnection). In group calls this device talks to the first callee
 * who accepts.
 */
export class CallSession {
  private readonly changes = new Emitter<{ change: () => void }>();
  private state: CallSnapshot = IDLE;
  private pc: RTCPeerConnection | null = null;
  private queuedIce: RTCIceCandidateInit[] = [];
  private remoteDescribed = false;
  private acceptedHere = false;
  private readonly offs: Unsubscribe[];

  constructor(
    private readonly connection: Connection,
    private readonly calls: CallsService,
    private readonly options: CallSessionOptions = {},
  ) {
    this.offs = [
      calls.on("call:incoming", ({ call }) => this.incoming(call)),
      calls.on("call:accepted", ({ callId, userId }) => void this.accepted(callId, userId)),
      calls.on("call:ended", ({ callId, reason }) => this.finish(callId, reason)),
      calls.on("call:missed", ({ callId }) => this.finish(callId, "missed")),
      calls.on("call:signal", (event) => void this.signal(event)),
    ];
  }

  getSnapshot = (): CallSnapshot => this.state;

  subscribe = (listener: () => void): Unsubscribe => this.changes.on("change", listener);

  /** Calls a user (or several); resolves once ringing. */
  async start(calleeIds: string | string[], media: "audio" | "video" = "audio", conversationId?: string): Promise<Call> {
    if (this.busy()) throw new SwitchboardError("conflict", "already in a call");
    this.set({ ...IDLE, phase: "outgoing" });
    try {
      const localStream = await this.media(media);
      this.set({ localStream });
      const call = await this.calls.initiate(Array.isArray(calleeIds) ? calleeIds : [calleeIds], media, conversationId);
      if (call.state === "ended") this.finish(call.id, call.endReason ?? "busy", call);
      else if (this.state.phase === "outgoing") this.set({ call });
      return call;
    } catch (err) {
      this.fail(err);
      throw err;
    }
  }

  /** Answers the ringing call on this device. */
  async accept(): Promise<void> {
    const call = this.state.call;
    if (this.state.phase !== "incoming" || !call) throw new SwitchboardError("conflict", "no incoming call");
    this.acceptedHere = true;
    this.set({ phase: "connecting", peerId: call.callerId });
    try {
      const localStream = await this.media(call.media);
      this.set({ localStream });
      this.createPeer(call.callerId);
      await this.calls.accept(call.id);
    } catch (err) {
      this.fail(err);
      throw err;
    }
  }

  async reject(reason?: string): Promise<void> {
    const call = this.state.call;
    if (this.state.phase !== "incoming" || !call) return;
    this.finish(call.id, "rejected");
    await this.calls.reject(call.id, reason);
  }

  /** Hangs up (or cancels an outgoing call). */
  async end(): Promise<void> {
    const call = this.state.call;
    if (!call || this.state.phase === "ended" || this.state.phase === "idle") return;
    this.finish(call.id, "ended");
    await this.calls.end(call.id);
  }

  /** Clears an ended call back to `idle`. */
  reset(): void {
    if (this.state.phase === "ended") this.set(IDLE);
  }

  dispose(): void {
    for (const off of this.offs.splice(0)) off();
    this.teardown();
  }

  private busy(): boolean {
    return this.state.phase !== "idle" && this.state.phase !== "ended";
  }

  private incoming(call: Call): void {
    // One call at a time on a device. A second call is left alone (not rejected):
    // the user's other devices may take it, or it rings out.
    if (this.busy()) return;
    this.acceptedHere = false;
    this.set({ ...IDLE, phase: "incoming", call, peerId: call.callerId });
  }

  private async accepted(callId: string, userId: string): Promise<void> {
    const call = this.state.call;
    if (!call || call.id !== callId) return;
    const me = this.connection.connectedEvent?.userId;
    if (this.state.phase === "incoming" && userId === me && !this.acceptedHere) return this.finish(callId, "answered_elsewhere");
    if (this.state.phase !== "outgoing" || call.callerId !== me) return;
    this.set({ phase: "connecting", peerId: userId, call: { ...call, state: "active" } });
    try {
      const pc = this.createPeer(userId);
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      await this.calls.signal(callId, userId, { type: "offer", sdp: offer.sdp ?? "" });
    } catch (err) {
      this.fail(err);
    }
  }

  private async signal({ callId, from, signal }: CallSignalEvent): Promise<void> {
    if (this.state.call?.id !== callId || from !== this.state.peerId) return;
    const pc = this.pc;
    if (!pc) return;
    try {
      if (signal.type === "offer") {
        await pc.setRemoteDescription({ type: "offer", sdp: signal.sdp ?? "" });
        await this.remoteReady();
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        await this.calls.signal(callId, from, { type: "answer", sdp: answer.sdp ?? "" });
      } else if (signal.type === "answer") {
        await pc.setRemoteDescription({ type: "answer", sdp: signal.sdp ?? "" });
        await this.remoteReady();
      } else if (signal.candidate) {
        const candidate = (typeof signal.candidate === "string" ? { candidate: signal.candidate } : signal.candidate) as RTCIceCandidateInit;
        if (this.remoteDescribed) await pc.addIceCandidate(candidate);
        else this.queuedIce.push(candidate);
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private async remoteReady(): Promise<void> {
    this.remoteDescribed = true;
    for (const candidate of this.queuedIce.splice(0)) await this.pc?.addIceCandidate(candidate);
  }

  private createPeer(peerId: string): RTCPeerConnection {
    if (typeof RTCPeerConnection === "undefined") throw new SwitchboardError("unavailable", "WebRTC is not available here");
    this.teardownPeer();
    const pc = new RTCPeerConnection(this.options.rtc);
    this.pc = pc;
    const callId = this.state.call!.id;
    const local = this.state.localStream;
    if (local) for (const track of local.getTracks()) pc.addTrack(track, local);
    // Negotiated data channel (same id on both sides, no extra signaling): the
    // peers connect even without media devices.
    pc.createDataChannel("switchboard", { negotiated: true, id: 0 });
    pc.onicecandidate = ({ candidate }) => {
      if (!candidate) return;
      // The DOM types call `candidate` optional; a gathered candidate always has it.
      const init = candidate.toJSON();
      void this.calls.signal(callId, peerId, { type: "ice", candidate: { ...init, candidate: init.candidate ?? "" } }).catch(() => {});
    };
    pc.ontrack = ({ streams, track }) => {
      const stream = streams[0] ?? this.state.remoteStream ?? new MediaStream();
      if (!streams[0]) stream.addTrack(track);
      this.set({ remoteStream: stream });
    };
    pc.onconnectionstatechange = () => {
      if (this.pc !== pc) return;
      if (pc.connectionState === "connected") this.set({ phase: "connected" });
      else if (pc.connectionState === "failed") this.fail(new SwitchboardError("unavailable", "the media connection failed"));
    };
    return pc;
  }

  private finish(callId: string, reason: string, call?: Call): void {
    if (this.state.call && this.state.call.id !== callId) return;
    if (this.state.phase === "ended" || this.state.phase === "idle") return;
    this.teardown();
    this.set({ phase: "ended", endReason: reason, call: call ?? this.state.call, localStream: null, remoteStream: null });
  }

  private fail(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    const call = this.state.call;
    this.teardown();
    this.set({ phase: "ended", endReason: "error", error, localStream: null, remoteStream: null });
    if (call) void this.calls.end(call.id).catch(() => {});
  }

  private teardown(): void {
    this.teardownPeer();
    for (const track of this.state.localStream?.getTracks() ?? []) track.stop();
  }

  private teardownPeer(): void {
    this.pc?.close();
    this.pc = null;
    this.queuedIce = [];
    this.remoteDescribed = false;
  }

  private async media(kind: "audio" | "video"): Promise<MediaStream | null> {
    if (this.options.getMedia) return this.options.getMedia(kind);
    if (typeof navigator === "undefined" || !navigator.mediaDevices?.getUserMedia) return null;
    return navigator.mediaDevices.getUserMedia({ audio: true, video: kind === "video" });
  }

  private set(patch: Partial<CallSnapshot>): void {
    this.state = { ...this.state, ...patch };
    this.changes.emit("change");
  }
}
