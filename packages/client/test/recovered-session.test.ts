import { describe, expect, it } from "vitest";
import type { PresenceInfo } from "@switchboard/client";
import { sleep } from "../../server/test/support/server-harness.js";
import { nextStatus, sdkClient, sharedServer, until } from "./support/sdk.js";
import { startProxy } from "./support/tcp-proxy.js";

// Connection state recovery on (the default window): a client cut off and back within it keeps its session's rooms.
const shared = sharedServer();

describe("client SDK: channels and follows across a recovered session", () => {
  it("two joins of a refused channel at once both reject, and neither leaves the channel counted as held", async () => {
    const alice = await sdkClient(shared(), { sub: "twice-alice" });
    await alice.ready();
    const results = await Promise.allSettled([alice.channels.join("patient:42"), alice.channels.join("patient:42")]);
    expect(results.map((r) => (r.status === "rejected" ? (r.reason as { code: string }).code : "fulfilled"))).toEqual(["forbidden", "forbidden"]);
    await expect(alice.channels.join("patient:42")).rejects.toMatchObject({ code: "forbidden" });
  });

  it("a channel left and a user unfollowed while cut off are left on the server once the recovered session is back", async () => {
    const server = shared();
    const proxy = await startProxy(server.url);
    const alice = await sdkClient(server, { sub: "left-alice" }, { url: proxy.url });
    const carol = await sdkClient(server, { sub: "left-carol" });
    await Promise.all([alice.ready(), carol.ready()]);
    await alice.channels.join("topic:left-news");
    await carol.channels.join("topic:left-news");
    const followed = await alice.presence.subscribe(["left-carol"]);
    const changes: PresenceInfo[] = [];
    alice.presence.on("change", (info) => info.userId === "left-carol" && changes.push(info));

    proxy.cut();
    await nextStatus(alice, "reconnecting");
    await alice.channels.leave("topic:left-news");
    followed.unsubscribe();
    proxy.restore();
    await nextStatus(alice, "connected");
    expect(alice.session?.recovered).toBe(true);
    await sleep(300);

    expect((await carol.channels.participants("topic:left-news")).map((p) => p.userId)).toEqual(["left-carol"]);
    await carol.presence.setStatus("busy");
    await sleep(300);
    expect(changes).toEqual([]);
  });
});
