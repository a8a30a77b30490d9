// @vitest-environment happy-dom
import { StrictMode, useState } from "react";
import { createRoot, type Root } from "react-dom/client";
import { describe, expect, it } from "vitest";
import { SwitchboardProvider, useConnectionStatus, useConversation, useConversations, useNotifications, usePresence } from "@switchboard/react";
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
    expect(items(root)).toEqual(["1:hooks-alice:hello", "2:hooks-alice:second", "3:hooks-bob:from bob"]);

    await server().server.notify("default", { userIds: ["hooks-bob"], type: "x", title: "Ping" });
    await until(() => text(root, "unread") === "1", 5000, "notification count");

    await alice.presence.setStatus("away");
    await until(() => text(root, "presence") === "away", 5000, "presence change");
  });

  it("a provider given options connects under StrictMode (trial unmount and remount) and disconnects on unmount", async () => {
    const token = await server().token({ sub: "strict-alice" });
    function Status() {
      return <p data-testid="status">{useConnectionStatus()}</p>;
    }
    const container = document.createElement("div");
    const root = createRoot(container);
    root.render(
      <StrictMode>
        <SwitchboardProvider options={{ url: server().url, token, socket: { transports: ["websocket"] } }}>
          <Status />
        </SwitchboardProvider>
      </StrictMode>,
    );
    await until(() => text(container, "status") === "connected", 5000, "connected");
    const online = async () => (await server().server.forTenant("default").isOnline("strict-alice")).online;
    await until(online, 5000, "online");
    root.unmount();
    await until(async () => !(await online()), 8000, "offline after unmount");
  });
});
