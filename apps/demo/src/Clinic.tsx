import { useEffect, useMemo, useState } from "react";
import { Brand } from "./components/Brand.js";
import { useChannelEvent, useConnectionStatus, useConversations, usePresence, useSwitchboard } from "@switchboard/react";
import type { ChosenStatus, Mood } from "@switchboard/protocol";
import { Avatar } from "./components/Avatar.js";
import { ConnectionBadge } from "./components/ConnectionBadge.js";
import { StatusPicker } from "./components/StatusPicker.js";
import { Sidebar } from "./Sidebar.js";
import { ChatPane } from "./ChatPane.js";
import { CallLayer } from "./CallLayer.js";
import { Notifications } from "./Notifications.js";
import { useDirectory } from "./directory.js";

export interface Me {
  userId: string;
  name: string;
  tenantId: string;
}

/** The signed-in workspace: top bar, people and conversations, the open chat, calls. */
export function Clinic({ me, onSignOut }: { me: Me; onSignOut: () => void }) {
  const client = useSwitchboard();
  const status = useConnectionStatus();
  const directory = useDirectory();
  const { conversations, refresh } = useConversations();
  const [selected, setSelected] = useState<string>();
  const [myStatus, setMyStatus] = useState<{ status: ChosenStatus; mood?: Mood }>({ status: "online" });
  const [announcement, setAnnouncement] = useState<string>();
  const [error, setError] = useState<string>();

  // Everyone worth a presence dot: the demo users and anyone we share a conversation with.
  const peopleIds = useMemo(() => {
    const ids = new Set(directory.map((u) => u.userId));
    for (const c of conversations) for (const p of c.participants) ids.add(p.userId);
    ids.delete(me.userId);
    return [...ids].sort();
  }, [directory, conversations, me.userId]);
  const presence = usePresence(peopleIds);
  const names = useMemo(() => {
    const map: Record<string, string> = { [me.userId]: me.name };
    for (const u of directory) map[u.userId] = u.name;
    return map;
  }, [directory, me]);
  const nameOf = (userId: string) => names[userId] ?? userId;

  // Clinic-wide announcements published by the backend (POST /v1/events to tenant:{id}).
  useChannelEvent<{ text?: string }>(`tenant:${me.tenantId}`, "clinic:announcement", (data) => setAnnouncement(data.text));

  // The first conversation opens by itself, so the page is never empty once there is one.
  useEffect(() => {
    if (!selected && conversations[0]) setSelected(conversations[0].id);
  }, [selected, conversations]);

  const openWith = async (userId: string) => {
    setError(undefined);
    try {
      const conversation = await client.chat.createConversation({ type: "direct", participantIds: [userId] });
      setSelected(conversation.id);
      void refresh();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const changeStatus = (status: ChosenStatus, mood?: Mood) => {
    setMyStatus({ status, mood });
    client.presence.setStatus(status, mood ? { mood } : null).catch((err: Error) => setError(err.message));
  };

  const current = conversations.find((c) => c.id === selected);

  return (
    <div className="shell">
      <header className="topbar">
        <Brand />
        <ConnectionBadge status={status} />
        <span className="spacer" />
        <StatusPicker status={myStatus.status} mood={myStatus.mood} onChange={changeStatus} />
        <Notifications />
        <div className="me" data-testid="me" data-user={me.userId}>
          <Avatar name={me.name} status={status === "connected" ? (myStatus.status === "online" ? "online" : myStatus.status) : "offline"} />
          <span className="me-name">
            <strong>{me.name}</strong>
            <small>tenant {me.tenantId}</small>
          </span>
        </div>
        <button type="button" className="button ghost" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <div className="main">
        <Sidebar
          meId={me.userId}
          people={peopleIds.map((id) => ({ userId: id, name: nameOf(id), presence: presence[id] }))}
          conversations={conversations}
          selectedId={selected}
          nameOf={nameOf}
          presence={presence}
          onSelect={setSelected}
          onOpenWith={(userId) => void openWith(userId)}
        />
        <section className="chat">
          {announcement && (
            <div className="announcement" role="status">
              {announcement}
              <button type="button" className="button ghost" onClick={() => setAnnouncement(undefined)} aria-label="Dismiss">
                ×
              </button>
            </div>
          )}
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
          {current ? (
            <ChatPane key={current.id} conversation={current} me={me} nameOf={nameOf} presence={presence} onRead={() => void refresh()} />
          ) : (
            <div className="placeholder">
              <div>
                <strong>No conversation open</strong>
                Pick someone under People to start a conversation.
              </div>
            </div>
          )}
        </section>
      </div>
      <CallLayer nameOf={nameOf} />
    </div>
  );
}
