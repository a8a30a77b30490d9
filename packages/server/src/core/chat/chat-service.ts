import { randomUUID } from "node:crypto";
import {
  GROUP_MAX_PARTICIPANTS,
  conversationIdSchema,
  type Conversation,
  type ConversationCreatePayload,
  type ConversationListPayload,
  type ConversationSummary,
  type Message,
  type MessageDeletedEvent,
  type MessageEditPayload,
  type MessageHistoryPayload,
  type MessageSendPayload,
  type ReceiptPayload,
} from "@switchboard/protocol";
import type { Caller } from "../../auth/caller.js";
import type { Broker } from "../../ports/broker.js";
import type { ChatStore } from "../../ports/chat-store.js";
import type { ChannelAuthorizer } from "../channels/channel-authorizer.js";
import type { ChannelEviction } from "../channels/channel-eviction.js";
import type { CrisisService } from "../crisis/crisis-service.js";
import type { DomainEvents } from "../domain-events.js";
import { AppError } from "../errors.js";
import { publishToUsers } from "../publish-to-users.js";

/** Where a request came from: its connection is not sent its own event back. */
export interface Origin {
  connectionId?: string;
}

const DEFAULT_HISTORY_LIMIT = 50;
const DEFAULT_LIST_LIMIT = 30;

/** Optional collaborators of {@link ChatService}. */
export interface ChatServiceOptions {
  domainEvents?: DomainEvents;
  crisis?: CrisisService;
  /** Takes removed participants out of `conversation:{id}` on every node; without it they stay until they leave it. */
  eviction?: Pick<ChannelEviction, "evict">;
}

/**
 * Conversations and messages (PROTOCOL.md section 4) for every transport.
 *
 * Message, receipt and typing events go to `conversation:{id}` (for clients
 * that subscribed to it, e.g. pusher-js on `private-conversation.{id}`) and to
 * the `user:` channel of every participant, so all of a participant's devices
 * get them whether or not they joined the conversation; a connection in several
 * of those channels gets each event once (per subscription on Pusher). A removed
 * participant's user channel stops receiving at once and their connections are
 * evicted from the conversation channel. Conversation lifecycle events
 * (`conversation:new/updated/removed`) go to user channels only. Nothing is
 * published before the store has committed.
 */
export class ChatService {
  private readonly domainEvents?: DomainEvents;
  private readonly crisis?: CrisisService;
  private readonly eviction?: Pick<ChannelEviction, "evict">;

  constructor(
    private readonly store: ChatStore,
    private readonly broker: Broker,
    authorizer: ChannelAuthorizer,
    options: ChatServiceOptions = {},
  ) {
    this.domainEvents = options.domainEvents;
    this.crisis = options.crisis;
    this.eviction = options.eviction;
    authorizer.registerRule("conversation", (caller, id) =>
      conversationIdSchema.safeParse(id).success ? this.store.isParticipant(caller.tenantId, id, caller.userId) : false,
    );
  }

  async createConversation(caller: Caller, payload: ConversationCreatePayload, origin: Origin = {}): Promise<{ conversation: Conversation }> {
    const others = [...new Set(payload.participantIds)].filter((id) => id !== caller.userId);
    if (payload.type === "direct" && others.length !== 1) {
      throw new AppError("bad_request", "a direct conversation has exactly one other participant");
    }
    if (payload.type === "group" && others.length === 0) throw new AppError("bad_request", "a group needs at least one other participant");
    if (others.length + 1 > GROUP_MAX_PARTICIPANTS) throw new AppError("bad_request", `at most ${GROUP_MAX_PARTICIPANTS} participants`);
    const participantIds = [caller.userId, ...others];
    const { conversation, created } = await this.store.createConversation({
      id: randomUUID(),
      tenantId: caller.tenantId,
      type: payload.type,
      title: payload.type === "group" ? payload.title : undefined,
      createdBy: caller.userId,
      participantIds,
      directKey: payload.type === "direct" ? [...participantIds].sort().join("\n") : undefined,
      now: new Date(),
    });
    if (created) await this.publish(caller.tenantId, participantIds, "conversation:new", { conversation }, origin);
    return { conversation };
  }

  async listConversations(caller: Caller, payload: ConversationListPayload): Promise<{ conversations: ConversationSummary[] }> {
    const conversations = await this.store.listConversations(caller.tenantId, caller.userId, {
      limit: payload.limit ?? DEFAULT_LIST_LIMIT,
      before: payload.before,
      beforeId: payload.beforeId,
    });
    return { conversations };
  }

  async getConversation(caller: Caller, conversationId: string): Promise<{ conversation: ConversationSummary }> {
    const conversation = await this.store.getSummary(caller.tenantId, conversationId, caller.userId);
    if (!conversation) throw await this.refusal(caller, conversationId);
    return { conversation };
  }

  async addParticipants(caller: Caller, conversationId: string, userIds: string[], origin: Origin = {}): Promise<{ conversation: Conversation }> {
    const before = await this.requireGroupAdmin(caller, conversationId);
    const wanted = [...new Set(userIds)];
    const total = new Set([...before.participants.map((p) => p.userId), ...wanted]).size;
    if (total > GROUP_MAX_PARTICIPANTS) throw new AppError("bad_request", `at most ${GROUP_MAX_PARTICIPANTS} participants`);
    const added = await this.store.addParticipants(caller.tenantId, conversationId, wanted, new Date());
    const conversation = (await this.store.getConversation(caller.tenantId, conversationId))!;
    if (added.length > 0) {
      const existing = conversation.participants.map((p) => p.userId).filter((id) => !added.includes(id));
      await this.publish(caller.tenantId, added, "conversation:new", { conversation }, {});
      await this.publish(caller.tenantId, existing, "conversation:updated", { conversation }, origin);
    }
    return { conversation };
  }

  async removeParticipants(caller: Caller, conversationId: string, userIds: string[], origin: Origin = {}): Promise<{ conversation: Conversation }> {
    await this.requireGroupAdmin(caller, conversationId);
    if (userIds.includes(caller.userId)) throw new AppError("bad_request", "use conversation:leave to leave a conversation");
    const removed = await this.store.removeParticipants(caller.tenantId, conversationId, [...new Set(userIds)]);
    const conversation = (await this.store.getConversation(caller.tenantId, conversationId))!;
    if (removed.length > 0) {
      await this.eviction?.evict(caller.tenantId, `conversation:${conversationId}`, removed);
      await this.publish(caller.tenantId, removed, "conversation:removed", { conversationId }, {});
      await this.publish(caller.tenantId, conversation.participants.map((p) => p.userId), "conversation:updated", { conversation }, origin);
    }
    return { conversation };
  }

  /** The caller leaves (direct or group); creating the direct pair again brings them back. */
  async leave(caller: Caller, conversationId: string, origin: Origin = {}): Promise<{ conversationId: string }> {
    await this.requireParticipant(caller, conversationId);
    await this.store.removeParticipants(caller.tenantId, conversationId, [caller.userId]);
    await this.eviction?.evict(caller.tenantId, `conversation:${conversationId}`, [caller.userId]);
    const conversation = (await this.store.getConversation(caller.tenantId, conversationId))!;
    await this.publish(caller.tenantId, [caller.userId], "conversation:removed", { conversationId }, origin);
    await this.publish(caller.tenantId, conversation.participants.map((p) => p.userId), "conversation:updated", { conversation }, {});
    return { conversationId };
  }

  async send(caller: Caller, payload: MessageSendPayload, origin: Origin = {}): Promise<{ message: Message }> {
    // Screened before it is stored; a flagged message is still stored and delivered, never dropped.
    const flagged = await this.crisis?.screen({ tenantId: caller.tenantId, userId: caller.userId, text: payload.body, kind: "message" });
    const result = await this.store.appendMessage({
      id: randomUUID(),
      tenantId: caller.tenantId,
      conversationId: payload.conversationId,
      senderId: caller.userId,
      senderName: caller.name,
      body: payload.body,
      clientMessageId: payload.clientMessageId,
      replyTo: payload.replyTo,
      now: new Date(),
    });
    switch (result.kind) {
      case "stored":
        await this.publishIn(caller.tenantId, payload.conversationId, result.participantIds, "message:new", { message: result.message }, origin);
        await this.domainEvents?.emit({ type: "message.created", tenantId: caller.tenantId, message: result.message, participantIds: result.participantIds });
        if (flagged) await this.crisis!.raise(caller, flagged, { kind: "message", conversationId: payload.conversationId, messageId: result.message.id });
        return { message: result.message };
      case "duplicate":
        // PROTOCOL.md section 4: the same id from the same sender returns the original message,
        // whatever the retry's body (a client that edited its draft between attempts still gets
        // what was stored). An id reused in another conversation names no message of this one.
        if (result.message.conversationId !== payload.conversationId) {
          // A conversation the caller may not send to is refused as such, whatever the id: the
          // refusal a fresh id gets (forbidden / not_found) comes before the id's reuse.
          await this.requireParticipant(caller, payload.conversationId);
          throw new AppError("conflict", "clientMessageId was already used in another conversation");
        }
        return { message: result.message };
      case "bad_reply":
        throw new AppError("bad_request", "replyTo is not a message of this conversation", [{ path: "replyTo", message: "not in this conversation" }]);
      case "not_participant":
        throw await this.refusal(caller, payload.conversationId);
    }
  }

  async history(caller: Caller, payload: MessageHistoryPayload): Promise<{ messages: Message[]; hasMore: boolean }> {
    await this.requireParticipant(caller, payload.conversationId);
    return this.store.history(caller.tenantId, payload.conversationId, {
      afterSeq: payload.afterSeq,
      beforeSeq: payload.beforeSeq,
      limit: payload.limit ?? DEFAULT_HISTORY_LIMIT,
    });
  }

  async edit(caller: Caller, payload: MessageEditPayload, origin: Origin = {}): Promise<{ message: Message }> {
    const original = await this.ownMessage(caller, payload.messageId);
    if (original.deletedAt) throw new AppError("conflict", "a deleted message cannot be edited");
    const message = await this.store.editMessage(caller.tenantId, payload.messageId, payload.body, new Date());
    if (!message) throw new AppError("conflict", "a deleted message cannot be edited");
    await this.publishToParticipants(caller.tenantId, message.conversationId, "message:updated", { message }, origin);
    // After the edit is stored and delivered, as a send is: screening never holds a message back.
    await this.crisis?.screenEdit(caller, message);
    return { message };
  }

  /** The answer carries what `message:deleted` does, so the deleting client can update its own views (it gets no event). */
  async delete(caller: Caller, messageId: string, origin: Origin = {}): Promise<MessageDeletedEvent> {
    const original = await this.ownMessage(caller, messageId);
    if (original.deletedAt) return { conversationId: original.conversationId, messageId, seq: original.seq };
    const message = (await this.store.deleteMessage(caller.tenantId, messageId, new Date()))!;
    const deleted = { conversationId: message.conversationId, messageId, seq: message.seq };
    await this.publishToParticipants(caller.tenantId, message.conversationId, "message:deleted", deleted, origin);
    return deleted;
  }

  async markDelivered(caller: Caller, payload: ReceiptPayload, origin: Origin = {}): Promise<Record<string, never>> {
    await this.receipt(caller, "delivered", payload, origin);
    return {};
  }

  async markRead(caller: Caller, payload: ReceiptPayload, origin: Origin = {}): Promise<{ unreadCount: number }> {
    const moved = await this.receipt(caller, "read", payload, origin);
    const unreadCount = await this.store.unreadCount(caller.tenantId, payload.conversationId, caller.userId);
    // Read to its end, the conversation's "new message" notification has nothing left to announce
    // (and, left unread, it would keep later messages from raising a new one).
    if (moved && unreadCount === 0) {
      await this.domainEvents?.emit({ type: "conversation.read", tenantId: caller.tenantId, userId: caller.userId, conversationId: payload.conversationId });
    }
    return { unreadCount };
  }

  /** A conversation's participants as stored now (for events sent later than the request that prompted them). */
  currentParticipants(tenantId: string, conversationId: string): Promise<string[]> {
    return this.store.participantIds(tenantId, conversationId);
  }

  /** Participants of a conversation the caller belongs to (typing indicators, calls tied to a conversation). */
  async participantsFor(caller: Caller, conversationId: string): Promise<string[]> {
    const participants = await this.store.participantIds(caller.tenantId, conversationId);
    if (!participants.includes(caller.userId)) throw await this.refusal(caller, conversationId);
    return participants;
  }

  /** Sends an event to every device of these users (except the originating connection). */
  publish(tenantId: string, userIds: readonly string[], event: string, data: unknown, origin: Origin): Promise<void> {
    return publishToUsers(this.broker, tenantId, userIds, event, data, origin.connectionId);
  }

  /** Sends a conversation's event to its channel and to every device of its participants `userIds` (except the originating connection). */
  publishIn(tenantId: string, conversationId: string, userIds: readonly string[], event: string, data: unknown, origin: Origin): Promise<void> {
    const channels = [`conversation:${conversationId}`, ...userIds.map((id) => `user:${id}`)];
    return this.broker.publish({ tenantId, channels, event, data, exceptConnectionId: origin.connectionId });
  }

  /** Resolves with whether the caller's receipt moved (a receipt at or behind the stored one changes nothing). */
  private async receipt(caller: Caller, kind: "delivered" | "read", payload: ReceiptPayload, origin: Origin): Promise<boolean> {
    const participants = await this.participantsFor(caller, payload.conversationId);
    const update = await this.store.advanceReceipt(caller.tenantId, payload.conversationId, caller.userId, kind, payload.upToSeq, new Date());
    if (!update.moved) return false;
    const event = { conversationId: payload.conversationId, userId: caller.userId, upToSeq: update.upToSeq, at: update.at };
    await this.publishIn(caller.tenantId, payload.conversationId, participants, `message:${kind}`, event, origin);
    return true;
  }

  private async publishToParticipants(tenantId: string, conversationId: string, event: string, data: unknown, origin: Origin): Promise<void> {
    await this.publishIn(tenantId, conversationId, await this.store.participantIds(tenantId, conversationId), event, data, origin);
  }

  private async ownMessage(caller: Caller, messageId: string): Promise<Message> {
    const message = await this.store.getMessage(caller.tenantId, messageId);
    if (!message) throw new AppError("not_found", "no such message");
    await this.requireParticipant(caller, message.conversationId);
    if (message.senderId !== caller.userId) throw new AppError("forbidden", "only the sender may change a message");
    return message;
  }

  private async requireParticipant(caller: Caller, conversationId: string): Promise<void> {
    if (!(await this.store.isParticipant(caller.tenantId, conversationId, caller.userId))) throw await this.refusal(caller, conversationId);
  }

  private async requireGroupAdmin(caller: Caller, conversationId: string): Promise<Conversation> {
    const conversation = await this.store.getConversation(caller.tenantId, conversationId);
    const me = conversation?.participants.find((p) => p.userId === caller.userId);
    if (!conversation || !me) throw await this.refusal(caller, conversationId);
    if (conversation.type !== "group") throw new AppError("bad_request", "participants of a direct conversation cannot change");
    if (me.role !== "admin") throw new AppError("forbidden", "only a group admin may change participants");
    return conversation;
  }

  /** `not_found` for a conversation that does not exist in the tenant, `forbidden` for one the caller is not in. */
  private async refusal(caller: Caller, conversationId: string): Promise<AppError> {
    const exists = await this.store.getConversation(caller.tenantId, conversationId);
    return exists ? new AppError("forbidden", "not a participant of this conversation") : new AppError("not_found", "no such conversation");
  }
}
