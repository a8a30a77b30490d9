import { useEffect, useRef, useState, type FormEvent } from "react";
import { characterCount, MESSAGE_BODY_MAX, type Message } from "@switchboard/protocol";
import { SendIcon } from "./Icons.js";

/** A message of mine not stored yet (queued offline, sending, or failed). */
export interface PendingBubble {
  clientMessageId: string;
  body: string;
  failed: boolean;
}

export interface ChatViewProps {
  myUserId: string;
  messages: readonly Message[];
  pending: readonly PendingBubble[];
  /** Highest seq the other side has read / has received. */
  readUpTo: number;
  deliveredUpTo: number;
  typingNames: readonly string[];
  loading: boolean;
  onSend(body: string): void;
  onTyping(): void;
  onStopTyping(): void;
}

/**
 * The draft cut to the server's body limit. An input's `maxLength` counts
 * UTF-16 units, so it would stop 8,000 emoji at 4,000; the server counts code
 * points, and so does this.
 */
const withinBodyLimit = (text: string) => (characterCount(text) <= MESSAGE_BODY_MAX ? text : Array.from(text).slice(0, MESSAGE_BODY_MAX).join(""));

const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

/** Ticks on my own messages: ✓ stored, ✓✓ delivered, ✓✓ (green) read. */
function Tick({ seq, readUpTo, deliveredUpTo }: { seq: number; readUpTo: number; deliveredUpTo: number }) {
  const state = seq <= readUpTo ? "read" : seq <= deliveredUpTo ? "delivered" : "sent";
  const label = { read: "Read", delivered: "Delivered", sent: "Sent" }[state];
  return (
    <span className="tick" data-state={state} data-testid="tick" title={label} aria-label={label}>
      {state === "sent" ? "✓" : "✓✓"}
    </span>
  );
}

/** The message list, typing line and composer of one conversation. */
export function ChatView(props: ChatViewProps) {
  const { myUserId, messages, pending, readUpTo, deliveredUpTo, typingNames } = props;
  const [draft, setDraft] = useState("");
  const end = useRef<HTMLDivElement>(null);

  // Braces matter: Chromium's scrollIntoView returns a promise, which React would take for a cleanup.
  useEffect(() => {
    end.current?.scrollIntoView({ block: "end" });
  }, [messages.length, pending.length]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const body = draft.trim();
    if (!body) return;
    props.onSend(body);
    props.onStopTyping();
    setDraft("");
  };

  return (
    <>
      <div className="messages" data-testid="messages">
        {props.loading && !messages.length && <p className="empty">Loading messages…</p>}
        {!props.loading && !messages.length && !pending.length && <p className="empty">No messages yet. Say hello.</p>}
        {messages.map((m) => {
          const mine = m.senderId === myUserId;
          return (
            <div key={m.id} className={mine ? "bubble mine" : "bubble theirs"} data-testid="message" data-seq={m.seq} data-mine={mine}>
              {m.deletedAt ? <em className="muted">Message deleted</em> : m.body}
              <div className="bubble-meta">
                <span>{time(m.createdAt)}</span>
                {m.editedAt && <span>edited</span>}
                {mine && <Tick seq={m.seq} readUpTo={readUpTo} deliveredUpTo={deliveredUpTo} />}
              </div>
            </div>
          );
        })}
        {pending.map((p) => (
          <div key={p.clientMessageId} className="bubble mine" data-testid="pending-message" style={{ opacity: 0.7 }}>
            {p.body}
            <div className="bubble-meta">
              <span>{p.failed ? "not sent" : "sending…"}</span>
              
            </div>
          </div>
        ))}
        <div ref={end} />
      </div>
      <div className="typing" data-testid="typing" aria-live="polite">
        {typingNames.length > 0 && `${typingNames.join(", ")} ${typingNames.length > 1 ? "are" : "is"} typing…`}
      </div>
      <form className="composer" onSubmit={submit}>
        <input
          value={draft}
          onChange={(e) => {
            const value = withinBodyLimit(e.target.value);
            setDraft(value);
            if (value) props.onTyping();
            else props.onStopTyping();
          }}
          placeholder="Write a message…"
          aria-label="Message"
          data-testid="composer"
        />
        <button type="submit" className="button primary" disabled={!draft.trim()} aria-label="Send" data-testid="send">
          <SendIcon />
        </button>
      </form>
    </>
  );
}
