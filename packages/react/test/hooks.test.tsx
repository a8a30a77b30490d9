// @vitest-environment happy-dom
import { StrictMode, useState } from "react";
import { createRoot, type Root } from "react-dom/client";
import { describe, expect, it } from "vitest";
import { SwitchboardProvider, useChannelEvent, useConnectionStatus, useConversation, useConversations, useNotifications, usePresence, useRecordViewers } from "@switchboard/react";
import { onCleanup } from "../../server/test/support/server-harness.js";
import { sdkClient, sharedServer, until } from "../../client/test/support/sdk.js";

// Updates come from a real server over the network, so the test waits for the DOM (polling) instead of act().
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false;
const server = sharedServer();

function mount(node: React.ReactNode): HTMLElement {
  const container = document.createElement("div");
  document.body.appendChild(container);
  const root: Root = createRoot(container);
  root.render(node);
  onCleanup(async () => root.unmount());
  return container;
}

function Chat({ conversationId }: { conversationId: string }) {
  const status = useConnectionStatus();
  const conversation = useConversation(conversationId);
  const { conversations } = useConversations();
  const { unreadCount } = useNotifications();
  const presence = usePresence(["hooks-alice"]);
  const [sent, setSent] = useState(0);
  return (
    <div>
      <p data-testid="status">{status}</p>
      <ul>{conversation?.messages.map((m) => <li key={m.id}>{`${m.seq}:${m.senderId}:${m.body}`}</li>)}</ul>
      <p data-testid="typing">{conversation?.typingUsers.map((t) => t.userId).join(",")}</p>
      <p data-testid="list">{conversations.map((c) => `${c.id === conversationId ? "this" : "other"}:${c.unreadCount}`).join(",")}</p>
      <p data-testid="unread">{unreadCount}</p>
      <p data-testid="presence">{presence["hooks-alice"]?.status ?? "?"}</p>
      <button onClick={() => void conversation?.send("from bob").then(() => setSent((n) => n + 1))}>send</button>
      <button data-testid="read" onClick={() => void conversation?.markRead()}>read</button>
      <p data-testid="sent">{sent}</p>
    </div>
  );
}

const text = (root: HTMLElement, id: string) => root.querySelector(`[data-testid="${id}"]`)?.textContent ?? "";
const items = (root: HTMLElement) => [...root.querySelectorAll("li")].map((li) => li.textContent);

describe("React hooks against a real server", () => {
  it("render status, conversation messages (live and sent), typing, the conversation list, notifications and presence", async () => {
    const alice = await sdkClient(server(), { sub: "hooks-alice" });
    const bob = await sdkClient(server(), { sub: "hooks-bob" });
    const conversation = await alice.chat.createConversation({ type: "direct", participantIds: ["hooks-bob"] });
    await alice.chat.send(conversation.id, "hello");

    const root = mount(
      <SwitchboardProvider client={bob}>
        <Chat conversationId={conversation.id} />
      </SwitchboardProvider>,
    );
    await until(() => text(root, "status") === "connected", 5000, "connected");
    await until(() => items(root).length === 1, 5000, "history");
    expect(items(root)).toEqual(["1:hooks-alice:hello"]);
    await until(() => text(root, "presence") === "online", 5000, "presence");

    alice.chat.conversation(conversation.id).typing();
    await until(() => text(root, "typing") === "hooks-alice", 5000, "typing");
    await alice.chat.send(conversation.id, "second");
    await until(() => items(root).length === 2, 5000, "live message");
    expect(text(root, "typing")).toBe("");
    await until(() => text(root, "list") === "this:2", 5000, "list with 2 unread");

    root.querySelector("button")!.click();
    await until(() => text(root, "sent") === "1", 5000, "send");
    // Read here: the list's count follows this client's own read (no message:read comes back to it).
    root.querySelector<HTMLButtonElement>('[data-testid="read"]')!.click();
    await until(() => text(root, "list") === "this:0", 5000, "the list's unread count after reading here");
    expect(items(root)).toEqual(["1:hooks-alice:hello", "2:hooks-alice:second", "3:hooks-bob:from bob"]);

    await server().server.notify("default", { userIds: ["hooks-bob"], type: "x", title: "Ping" });
    await until(() => text(root, "unread") === "1", 5000, "notification count");

    await alice.presence.setStatus("away");
    await until(() => text(root, "presence") === "away", 5000, "presence change");
  });

  it("the conversation list's preview and unread count follow edits and deletions, from another user and from this client", async () => {
    const alice = await sdkClient(server(), { sub: "preview-alice" });
    const bob = await sdkClient(server(), { sub: "preview-bob" });
    const conversation = await alice.chat.createConversation({ type: "direct", participantIds: ["preview-bob"] });
    const first = await alice.chat.send(conversation.id, "first");
    const second = await alice.chat.send(conversation.id, "SECRET second");
    function List() {
      const { conversations } = useConversations();
      const view = useConversation(conversation.id);
      return (
        <>
          <p data-testid="preview">{conversations.map((c) => `${c.lastMessage?.deletedAt ? "(deleted)" : c.lastMessage?.body}:${c.unreadCount}`).join(",")}</p>
          <p data-testid="bubbles">{view?.messages.map((m) => (m.deletedAt ? "(deleted)" : m.body)).join("|")}</p>
        </>
      );
    }
    const root = mount(
      <SwitchboardProvider client={bob}>
        <List />
      </SwitchboardProvider>,
    );
    await until(() => text(root, "preview") === "SECRET second:2", 5000, "two unread");
    await alice.chat.edit(second.id, "edited second");
    await until(() => text(root, "preview") === "edited second:2", 5000, "the preview after an edit");
    await alice.chat.delete(second.id);
    // The deleted message was unread: the server's count drops with it.
    await until(() => text(root, "preview") === "(deleted):1", 5000, "the preview and count after a deletion");
    expect(text(root, "preview")).not.toContain("SECRET");
    await until(() => text(root, "bubbles") === "first|(deleted)", 5000, "the bubbles");

    // This client's own changes: the server tells every connection but the one that made them.
    const mine = await bob.chat.send(conversation.id, "bob's own");
    await until(() => text(root, "preview") === "bob's own:1", 5000, "own message in the preview");
    await bob.chat.edit(mine.id, "bob's own, edited");
    await until(() => text(root, "preview") === "bob's own, edited:1" && text(root, "bubbles") === "first|(deleted)|bob's own, edited", 5000, "own edit");
    await bob.chat.delete(mine.id);
    await until(() => text(root, "preview") === "(deleted):1" && text(root, "bubbles") === "first|(deleted)|(deleted)", 5000, "own deletion");
    expect(first.seq).toBe(1);
  });

  it("a provider given options connects under StrictMode (trial unmount and remount) and disconnects on unmount", async () => {
    const token = await server().token({ sub: "strict-alice" });
    const other = await sdkClient(server(), { sub: "strict-bob" });
    await other.chat.createConversation({ type: "group", participantIds: ["strict-alice"], title: "Strict" });
    function Status() {
      const { conversations, error } = useConversations();
      const { notifications, loading } = useNotifications();
      return (
        <>
          <p data-testid="status">{useConnectionStatus()}</p>
          <p data-testid="list">{error ? error.code : conversations.map((c) => c.title).join(",")}</p>
          <p data-testid="feed">{loading ? "loading" : `${notifications.length}`}</p>
        </>
      );
    }
    const container = document.createElement("div");
    const root = createRoot(container);
    root.render(
      <StrictMode>
        <SwitchboardProvider options={{ url: server().url, token }}>
          <Status />
        </SwitchboardProvider>
      </StrictMode>,
    );
    await until(() => text(container, "status") === "connected", 5000, "connected");
    // The children's first requests ran in their mount effects, before the provider's connection was up.
    await until(() => text(container, "list") === "Strict", 5000, "the conversation list");
    await until(() => text(container, "feed") === "0", 5000, "the notification feed");
    const online = async () => (await server().server.forTenant("default").isOnline("strict-alice")).online;
    await until(online, 5000, "online");
    root.unmount();
    await until(async () => !(await online()), 8000, "offline after unmount");
  });

  it("useRecordViewers lists who views a record and useChannelEvent hears a channel's events with the latest handler", async () => {
    const ann = await sdkClient(server(), { sub: "viewers-ann" });
    const ben = await sdkClient(server(), { sub: "viewers-ben" });
    await ann.ready();
    const heard: string[] = [];
    function Chart({ label }: { label: string }) {
      const { viewers } = useRecordViewers("topic:chart-1");
      useChannelEvent<{ n: number }>("topic:chart-1", "chart:updated", (data) => heard.push(`${label}${data.n}`));
      return (
        <>
          <p data-testid="label">{label}</p>
          <p data-testid="viewers">{viewers.map((v) => v.userId).join(",")}</p>
        </>
      );
    }
    const container = document.createElement("div");
    const root = createRoot(container);
    onCleanup(async () => root.unmount());
    root.render(<SwitchboardProvider client={ben}><Chart label="a" /></SwitchboardProvider>);
    await until(() => text(container, "viewers") === "viewers-ben", 5000, "ben viewing");
    const { stop } = await ann.presence.watchResource("topic:chart-1");
    await until(() => text(container, "viewers") === "viewers-ben,viewers-ann", 5000, "ann joining the viewers");
    root.render(<SwitchboardProvider client={ben}><Chart label="b" /></SwitchboardProvider>);
    await until(() => text(container, "label") === "b", 5000, "the re-render");
    await until(async () => {
      await server().server.publish("default", { channel: "topic:chart-1", event: "chart:updated", data: { n: 1 } });
      await new Promise((r) => setTimeout(r, 100));
      return heard.length > 0;
    }, 5000, "the channel event");
    expect(heard[0]).toBe("b1");
    stop();
    await until(() => text(container, "viewers") === "viewers-ben", 5000, "ann leaving");
  });
});
