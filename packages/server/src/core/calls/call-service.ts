import { randomUUID } from "node:crypto";
import { callIdSchema } from "@switchboard/protocol";
import type {
  Call,
  CallEndReason,
  CallInitiatePayload,
  CallQualityIssueEvent,
  CallQualityPayload,
  CallRecord,
  CallRejectPayload,
  CallSignalPayload,
} from "@switchboard/protocol";
import type { Logger } from "pino";
import type { Caller } from "../../auth/caller.js";
import type { ChannelAuthorizer } from "../channels/channel-authorizer.js";
import type { Broker } from "../../ports/broker.js";
import type { CallStore, CallWithParticipants } from "../../ports/call-store.js";
import type { Connection } from "../connection.js";
import type { ConnectionListener } from "../connection-listener.js";
import type { ConnectionRegistry } from "../connection-registry.js";
import type { DomainEvents } from "../domain-events.js";
import { AppError } from "../errors.js";
import { publishToUsers } from "../publish-to-users.js";
import { CallTimers } from "./call-timers.js";

/** Told when users enter and leave active calls (presence shows them `in_call`). */
export interface InCallTracker {
  entered(tenantId: string, userId: string): Promise<void>;
  left(tenantId: string, userId: string): Promise<void>;
}

export interface CallServiceOptions {
  ringTimeoutMs: number;
  graceMs: number;
  /** How often every node looks for calls whose ringing timer was lost (e.g. with a crashed node). */
  sweepIntervalMs: number;
  thresholds: { rttMs: number; jitterMs: number; packetLossPct: number };
  /**
   * The participant ids of a conversation the caller is in (calls tied to one
   * must be among them); throws `not_found` for one that does not exist in the
   * tenant and `forbidden` for one the caller is not in, as chat does.
   */
  conversationParticipants(caller: Caller, conversationId: string): Promise<string[]>;
  inCall?: InCallTracker;
  /**
   * Whether a user has a live connection on any node (shared presence). Asked
   * when a disconnect grace ends, so a device that came back on another node
   * keeps the call.
   */
  isConnectedAnywhere?: (tenantId: string, userId: string) => Promise<boolean>;
  domainEvents?: DomainEvents;
  /** Where the `call:{id}` channel's rule is registered (PROTOCOL.md section 3: the call's participants may join). */
  authorizer?: ChannelAuthorizer;
  logger: Logger;
}

type Origin = { connectionId?: string };

/**
 * WebRTC call signaling (PROTOCOL.md section 7) with the state machine enforced
 * server-side: ringing -> active -> ended. State lives in the CallStore, every
 * transition is a conditional update, and timers only prompt a re-check, so a
 * second node or a late timer can never double an outcome.
 */
export class CallService implements ConnectionListener {
  private readonly timers = new CallTimers();
  private readonly sweeper: NodeJS.Timeout;
  /** When the sweep first found a joined participant of an open call connected nowhere (`tenant/call/user`). */
  private readonly absentSince = new Map<string, number>();

  constructor(
    private readonly store: CallStore,
    private readonly broker: Broker,
    private readonly registry: ConnectionRegistry,
    private readonly options: CallServiceOptions,
  ) {
    this.sweeper = setInterval(() => void this.sweep().catch((err) => options.logger.warn({ err }, "call sweep failed")), options.sweepIntervalMs);
    this.sweeper.unref();
    options.authorizer?.registerRule("call", (caller, id) => this.isParticipant(caller, id));
  }

  /**
   * Marks the participants of calls that are still active `in_call` again, at
   * start. The mark lives with presence: on one node, in memory, so a restart
   * lost it while the stored call went on (its participants read `online` until
   * it ended). With Redis the mark survived, and setting it again announces
   * nothing. Calls nobody comes back to are ended by the sweep, which clears it.
   */
  async restoreInCall(): Promise<void> {
    const inCall = this.options.inCall;
    if (!inCall) return;
    const marked = new Set<string>();
    for (const { tenantId, userId, active } of await this.store.joinedInOpenCalls(10_000)) {
      const key = `${tenantId}/${userId}`;
      if (!active || marked.has(key)) continue;
      marked.add(key);
      await inCall.entered(tenantId, userId);
    }
  }

  /** Whether the caller is the call's caller or one of its callees (whatever their answer), for as long as the call is kept. */
  private async isParticipant(caller: Caller, callId: string): Promise<boolean> {
    if (!callIdSchema.safeParse(callId).success) return false;
    const found = await this.store.get(caller.tenantId, callId);
    return found?.participants.some((p) => p.userId === caller.userId) ?? false;
  }

  async initiate(caller: Caller, payload: CallInitiatePayload, origin: Origin = {}): Promise<{ call: Call }> {
    const calleeIds = [...new Set(payload.calleeIds)].filter((id) => id !== caller.userId);
    if (calleeIds.length === 0) throw new AppError("bad_request", "a call needs at least one callee other than the caller");
    if (payload.conversationId) {
      const participants = await this.options.conversationParticipants(caller, payload.conversationId);
      if (!calleeIds.every((userId) => participants.includes(userId))) throw new AppError("forbidden", "callees must be participants of the conversation");
    }
    const now = new Date();
    const created = await this.store.create({
      id: randomUUID(),
      tenantId: caller.tenantId,
      conversationId: payload.conversationId,
      callerId: caller.userId,
      media: payload.media,
      now,
      ringDeadline: new Date(now.getTime() + this.options.ringTimeoutMs),
      calleeIds,
    });
    if (!created) throw new AppError("conflict", "already in a call");
    const { call, participants } = created;
    const ringing = participants.filter((p) => p.status === "ringing").map((p) => p.userId);
    const busy = participants.filter((p) => p.status === "busy").map((p) => p.userId);
    await this.publish(caller.tenantId, ringing, "call:incoming", { call });
    for (const userId of busy) await this.publish(caller.tenantId, [caller.userId], "call:rejected", { callId: call.id, userId, reason: "busy" });
    if (ringing.length === 0) {
      const ended = await this.finish(caller.tenantId, call.id, "busy");
      return { call: ended ?? call };
    }
    this.timers.set(`ring:${call.id}`, this.options.ringTimeoutMs, () => void this.ringTimeout(caller.tenantId, call.id));
    return { call };
  }

  async accept(caller: Caller, callId: string, origin: Origin = {}): Promise<{ call: Call }> {
    const current = await this.participantView(caller, callId);
    if (current.call.state === "ended") throw new AppError("conflict", "the call has ended");
    const accepted = await this.store.accept(caller.tenantId, callId, caller.userId, new Date());
    if (accepted === "busy") throw new AppError("conflict", "already in another call");
    if (accepted === "not_ringing") throw new AppError("conflict", "the call is not ringing for this user (accepted elsewhere, rejected, missed or ended)");
    const { call, participants } = (await this.store.get(caller.tenantId, callId))!;
    if (current.call.state === "ringing") await this.options.inCall?.entered(caller.tenantId, call.callerId);
    await this.options.inCall?.entered(caller.tenantId, caller.userId);
    // Everyone, the accepting user's other devices included: they stop ringing.
    await this.publish(caller.tenantId, participants.map((p) => p.userId), "call:accepted", { callId, userId: caller.userId }, origin);
    return { call };
  }

  async reject(caller: Caller, payload: CallRejectPayload, origin: Origin = {}): Promise<Record<string, never>> {
    const current = await this.participantView(caller, payload.callId);
    if (current.call.state === "ended") throw new AppError("conflict", "the call has ended");
    // The caller declining its own call means hanging up: cancelled while it rings, ended once answered.
    if (caller.userId === current.call.callerId) return this.end(caller, payload.callId);
    if (!(await this.store.transition(caller.tenantId, payload.callId, caller.userId, ["ringing"], "rejected"))) {
      throw new AppError("conflict", "the call is not ringing for this user");
    }
    const reason = payload.reason ?? "rejected";
    const { participants } = (await this.store.get(caller.tenantId, payload.callId))!;
    await this.publish(caller.tenantId, participants.map((p) => p.userId), "call:rejected", { callId: payload.callId, userId: caller.userId, reason }, origin);
    const stillThere = participants.some((p) => p.role === "callee" && (p.status === "ringing" || p.status === "joined"));
    if (!stillThere) await this.finish(caller.tenantId, payload.callId, "rejected");
    return {};
  }

  async end(caller: Caller, callId: string): Promise<Record<string, never>> {
    const current = await this.participantView(caller, callId);
    if (current.call.state === "ended") return {};
    const me = current.participants.find((p) => p.userId === caller.userId)!;
    // A ringing callee's hang-up declines (one "hang up" button serves every state); a group call goes on for the others.
    if (me.status === "ringing") return this.reject(caller, { callId });
    if (me.status !== "joined") throw new AppError("conflict", "this user is no longer in the call");
    const reason: CallEndReason = current.call.state === "ringing" && caller.userId === current.call.callerId ? "cancelled" : "ended";
    await this.finish(caller.tenantId, callId, reason);
    return {};
  }

  async signal(caller: Caller, payload: CallSignalPayload): Promise<Record<string, never>> {
    const { call, participants } = await this.participantView(caller, payload.callId);
    if (call.state === "ended") throw new AppError("conflict", "the call has ended");
    const from = participants.find((p) => p.userId === caller.userId)!;
    const to = participants.find((p) => p.userId === payload.to);
    if (from.status !== "joined") throw new AppError("forbidden", "only a participant in the call may signal");
    if (!to || (to.status !== "joined" && to.status !== "ringing") || to.userId === caller.userId) {
      throw new AppError("forbidden", "`to` must be another participant of the call");
    }
    await this.publish(caller.tenantId, [to.userId], "call:signal", { callId: call.id, from: caller.userId, signal: payload.signal });
    return {};
  }

  async quality(caller: Caller, payload: CallQualityPayload): Promise<Record<string, never>> {
    const { call, participants } = await this.participantView(caller, payload.callId);
    if (call.state !== "active") throw new AppError("conflict", "quality samples belong to an active call");
    await this.store.addQualitySample(caller.tenantId, call.id, caller.userId, payload, new Date());
    const limits = this.options.thresholds;
    const issues: CallQualityIssueEvent[] = [];
    if (payload.rttMs > limits.rttMs) issues.push({ callId: call.id, userId: caller.userId, metric: "rttMs", value: payload.rttMs });
    if (payload.jitterMs > limits.jitterMs) issues.push({ callId: call.id, userId: caller.userId, metric: "jitterMs", value: payload.jitterMs });
    if (payload.packetLossPct > limits.packetLossPct) issues.push({ callId: call.id, userId: caller.userId, metric: "packetLossPct", value: payload.packetLossPct });
    const inCall = participants.filter((p) => p.status === "joined").map((p) => p.userId);
    for (const issue of issues) await this.publish(caller.tenantId, inCall, "call:qualityIssue", issue);
    return {};
  }

  history(caller: Caller, query: { limit?: number; before?: string; beforeId?: string }): Promise<CallRecord[]> {
    return this.store.history(caller.tenantId, caller.userId, { limit: query.limit ?? 30, before: query.before, beforeId: query.beforeId });
  }

  /** A returning device cancels the disconnect grace of its user's calls. */
  async connected({ caller }: Connection): Promise<void> {
    this.timers.clearPrefix(`grace:${caller.tenantId}/${caller.userId}/`);
  }

  /** The user's last device on this node left: their calls end unless they are back within the grace period. */
  async disconnected({ caller }: Connection): Promise<void> {
    if (this.registry.isConnected(caller.tenantId, caller.userId)) return;
    for (const callId of await this.store.openCallsOf(caller.tenantId, caller.userId)) {
      this.timers.set(`grace:${caller.tenantId}/${caller.userId}/${callId}`, this.options.graceMs, () => void this.endUnlessBack(caller, callId));
    }
  }

  private async endUnlessBack(caller: Caller, callId: string): Promise<void> {
    try {
      if (this.registry.isConnected(caller.tenantId, caller.userId)) return;
      if (await this.options.isConnectedAnywhere?.(caller.tenantId, caller.userId).catch(() => false)) return;
      await this.finish(caller.tenantId, callId, "disconnected");
    } catch (err) {
      this.options.logger.warn({ err }, "ending a call failed");
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    this.timers.close();
  }

  /** Ends the call once (whoever wins the stored transition publishes), telling everyone and the missed callees. */
  private async finish(tenantId: string, callId: string, reason: CallEndReason): Promise<Call | null> {
    const ended = await this.store.end(tenantId, callId, reason, new Date());
    if (!ended) return null;
    this.timers.clear(`ring:${callId}`);
    // Callees found busy never heard of this call (no `call:incoming`): an end would only confuse their
    // clients, which may take it for the call they are in.
    const told = ended.participants.filter((p) => p.status !== "busy").map((p) => p.userId);
    await this.publish(tenantId, told, "call:ended", { callId, reason, durationMs: ended.durationMs });
    await this.announceMissed(tenantId, ended.call, ended.missed);
    if (ended.call.startedAt) for (const userId of ended.joined) await this.options.inCall?.left(tenantId, userId);
    return ended.call;
  }

  /** Ring deadline: an unanswered call times out; callees still ringing on an answered call missed it. */
  private async ringTimeout(tenantId: string, callId: string): Promise<void> {
    try {
      const current = await this.store.get(tenantId, callId);
      if (!current || current.call.state === "ended") return;
      if (current.call.state === "ringing") {
        await this.finish(tenantId, callId, "timeout");
        return;
      }
      const missed = await this.store.expireRinging(tenantId, callId);
      const { call } = (await this.store.get(tenantId, callId))!;
      await this.announceMissed(tenantId, call, missed);
    } catch (err) {
      this.options.logger.warn({ err, callId }, "call ring timeout failed");
    }
  }

  private async announceMissed(tenantId: string, call: Call, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    await this.publish(tenantId, userIds, "call:missed", { callId: call.id, call });
    await this.options.domainEvents?.emit({ type: "call.missed", tenantId, call, userIds });
  }

  private async sweep(): Promise<void> {
    for (const { tenantId, callId } of await this.store.overdue(new Date(), 100)) await this.ringTimeout(tenantId, callId);
    await this.sweepDisconnected();
  }

  /**
   * Ends calls whose joined participant has had no connection on any node for
   * the grace period. The disconnect's own grace timer lives on the node the
   * device was on; when that node crashes or stops, the timer goes with it and
   * the call stayed active for the one left behind (`in_call`, refusing new
   * calls) until they hung up. Every node sweeps; the stored transition ends the
   * call once. A user is seen absent at one sweep and the call ends at the first
   * sweep a grace later.
   */
  private async sweepDisconnected(): Promise<void> {
    const isConnectedAnywhere = this.options.isConnectedAnywhere;
    if (!isConnectedAnywhere) return;
    const now = Date.now();
    const open = new Set<string>();
    for (const { tenantId, callId, userId } of await this.store.joinedInOpenCalls(1000)) {
      const key = `${tenantId}/${callId}/${userId}`;
      open.add(key);
      // An unanswerable presence store counts as connected: never end a call on a guess.
      const connected = this.registry.isConnected(tenantId, userId) || (await isConnectedAnywhere(tenantId, userId).catch(() => true));
      const since = this.absentSince.get(key);
      if (connected) this.absentSince.delete(key);
      else if (since === undefined) this.absentSince.set(key, now);
      else if (now - since >= this.options.graceMs) {
        this.absentSince.delete(key);
        await this.finish(tenantId, callId, "disconnected");
      }
    }
    for (const key of this.absentSince.keys()) if (!open.has(key)) this.absentSince.delete(key);
  }

  /** The call as seen by one of its participants; `not_found` / `forbidden` otherwise. */
  private async participantView(caller: Caller, callId: string): Promise<CallWithParticipants> {
    const found = await this.store.get(caller.tenantId, callId);
    if (!found) throw new AppError("not_found", "no such call");
    if (!found.participants.some((p) => p.userId === caller.userId)) throw new AppError("forbidden", "not a participant of this call");
    return found;
  }

  private publish(tenantId: string, userIds: readonly string[], event: string, data: unknown, origin: Origin = {}): Promise<void> {
    return publishToUsers(this.broker, tenantId, userIds, event, data, origin.connectionId);
  }
}
