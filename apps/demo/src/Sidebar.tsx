import type { ConversationSummary, PresenceInfo } from "@switchboard/protocol";
import { Avatar, statusLabel } from "./components/Avatar.js";
import { moodText } from "./components/StatusPicker.js";

export interface Person {
  userId: string;
  name: string;
  presence?: PresenceInfo;
}

export interface SidebarProps {
  meId: string;
  people: readonly Person[];
  conversations: readonly ConversationSummary[];
  selectedId?: string;
  nameOf(userId: string): string;
  presence: Readonly<Record<string, PresenceInfo>>;
  onSelect(conversationId: string): void;
  onOpenWith(userId: string): void;
}

/** "Online · 🙂 good · In clinic" */
export function presenceLine(info: PresenceInfo | undefined): string {
  return [statusLabel(info?.status), moodText(info?.custom?.mood), info?.custom?.text].filter(Boolean).join(" · ");
}

/** The other participants of a conversation, or its title. */
export function conversationTitle(c: ConversationSummary, meId: string, nameOf: (id: string) => string): string {
  if (c.title) return c.title;
  const others = c.participants.filter((p) => p.userId !== meId).map((p) => nameOf(p.userId));
  return others.join(", ") || "Just you";
}

/** People (with presence and mood) and conversations (with last message and unread count). */
export function Sidebar(props: SidebarProps) {
  const { meId, nameOf, presence } = props;
  return (
    <nav className="sidebar" aria-label="People and conversations">
      <h2>Conversations</h2>
      <ul className="list" data-testid="conversations">
        {props.conversations.length === 0 && <li className="empty">None yet.</li>}
        {props.conversations.map((c) => {
          const other = c.type === "direct" ? c.participants.find((p) => p.userId !== meId)?.userId : undefined;
          const last = c.lastMessage;
          return (
            <li key={c.id}>
              <button type="button" className="row" aria-current={c.id === props.selectedId} onClick={() => props.onSelect(c.id)} data-testid="conversation" data-peer={other}>
                <Avatar name={conversationTitle(c, meId, nameOf)} status={other ? (presence[other]?.status ?? "offline") : undefined} />
                <span className="row-text">
                  <span className="row-title">{conversationTitle(c, meId, nameOf)}</span>
                  <span className="row-sub">{last ? `${last.senderId === meId ? "You: " : ""}${last.deletedAt ? "Message deleted" : last.body}` : "No messages yet"}</span>
                </span>
                {c.unreadCount > 0 && (
                  <span className="count" data-testid="conversation-unread">
                    {c.unreadCount}
                  </span>
                )}
              </button>
            </li>
          );
        })}
      </ul>
      <h2>People</h2>
      <ul className="list" data-testid="people">
        {props.people.length === 0 && <li className="empty">Nobody else here yet.</li>}
        {props.people.map((p) => (
          <li key={p.userId}>
            <button type="button" className="row" onClick={() => props.onOpenWith(p.userId)} data-testid="person" data-user={p.userId} data-status={p.presence?.status ?? "offline"} title={`Message ${p.name}`}>
              <Avatar name={p.name} status={p.presence?.status ?? "offline"} small />
              <span className="row-text">
                <span className="row-title">{p.name}</span>
                <span className="row-sub mood" data-testid="presence-line">
                  {presenceLine(p.presence)}
                </span>
              </span>
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
