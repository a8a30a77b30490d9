import { useEffect } from "react";
import { useCall, useConversation } from "@switchboard/react";
import type { ConversationSummary, PresenceInfo } from "@switchboard/protocol";
import { Avatar } from "./components/Avatar.js";
import { ChatView } from "./components/ChatView.js";
import { VideoIcon } from "./components/Icons.js";
import { conversationTitle, presenceLine } from "./Sidebar.js";
import type { Me } from "./Clinic.js";

const highest = (byUser: Readonly<Record<string, number>>, userIds: readonly string[]) => Math.max(0, ...userIds.map((id) => byUser[id] ?? 0));

export interface ChatPaneProps {
  conversation: ConversationSummary;
  me: Me;
  nameOf: (id: string) => string;
  presence: Readonly<Record<string, PresenceInfo>>;
  /** After this tab marked messages read (the list's unread count is re-read). */
  onRead: () => void;
}

/** The open conversation: header with presence and the call button, messages, composer. */
export function ChatPane({ conversation, me, nameOf, presence, onRead }: ChatPaneProps) {
  const view = useConversation(conversation.id);
  const call = useCall();
  const others = conversation.participants.map((p) => p.userId).filter((id) => id !== me.userId);
  const peer = conversation.type === "direct" ? others[0] : undefined;
  const title = conversationTitle(conversation, me.userId, nameOf);

  // Read what arrives while this tab is visible; a hidden tab leaves the ticks grey.
  const lastTheirs = view?.messages.filter((m) => m.senderId !== me.userId).at(-1)?.seq ?? 0;
  useEffect(() => {
    if (!view || lastTheirs === 0) return;
    const markIfVisible = () => {
      if (document.visibilityState === "visible") view.markRead(lastTheirs).then(onRead, () => {});
    };
    markIfVisible();
    document.addEventListener("visibilitychange", markIfVisible);
    return () => document.removeEventListener("visibilitychange", markIfVisible);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `view` changes identity on every snapshot
  }, [conversation.id, lastTheirs, Boolean(view)]);

  const inCall = call.phase !== "idle" && call.phase !== "ended";
  return (
    <>
      <div className="chat-header">
        <Avatar name={title} status={peer ? (presence[peer]?.status ?? "offline") : undefined} />
        <span className="row-text">
          <span className="row-title" data-testid="chat-title">
            {title}
          </span>
          <span className="row-sub">{peer ? presenceLine(presence[peer]) : `${conversation.participants.length} participants`}</span>
        </span>
        {peer && (
          <button
            type="button"
            className="button primary"
            disabled={inCall}
            onClick={() => void call.start(peer, "video", conversation.id).catch(() => {})}
            data-testid="call-button"
            title={`Video call ${title}`}
            style={{ display: "inline-flex", alignItems: "center", gap: "0.4rem" }}
          >
            <VideoIcon /> Call
          </button>
        )}
      </div>
      {view ? (
        <ChatView
          myUserId={me.userId}
          messages={view.messages}
          pending={view.pending.map((p) => ({ clientMessageId: p.clientMessageId, body: p.body, failed: p.state === "failed" }))}
          readUpTo={highest(view.readUpTo, others)}
          deliveredUpTo={highest(view.deliveredUpTo, others)}
          typingNames={view.typingUsers.map((t) => t.name || nameOf(t.userId))}
          loading={view.loading}
          onSend={(body) => void view.send(body).catch(() => {})}
          onTyping={view.typing}
          onStopTyping={view.stopTyping}
        />
      ) : (
        <div className="messages" />
      )}
    </>
  );
}
