import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { ChannelAuthorizer } from "../src/core/channels/channel-authorizer.js";
import { ChannelService } from "../src/core/channels/channel-service.js";
import { MemoryChannelMembers } from "../src/drivers/memory/memory-channel-members.js";
import type { Broker, ChannelMessage } from "../src/ports/broker.js";
import { localConnection } from "./support/local-connection.js";

/** Members whose count cannot be read, as when a shared store is away. */
class CountlessMembers extends MemoryChannelMembers {
  override async count(): Promise<number> {
    throw new Error("store unavailable");
  }
}

describe("announcement limit when the member count cannot be read", () => {
  it("joins and a disconnect's leaves still complete: observers hear every change, nothing is announced, nothing throws", async () => {
    const published: ChannelMessage[] = [];
    const broker: Broker = { publish: async (m) => void published.push(m), subscribe: () => () => {}, close: async () => {} };
    const service = new ChannelService({
      authorizer: new ChannelAuthorizer([]),
      members: new CountlessMembers(),
      broker,
      maxRoomsPerConnection: 100,
      announceMaxMembers: 100,
      leaseMs: 10_000,
      logger: pino({ level: "silent" }),
    });
    const seen: string[] = [];
    service.observe({ memberAdded: (_t, ch, m) => seen.push(`+${m.userId} ${ch}`), memberRemoved: (_t, ch, m) => seen.push(`-${m.userId} ${ch}`) });
    const alice = localConnection("c1", { userId: "alice", tenantId: "acme", name: "alice", roles: [] });
    await service.connect(alice);
    await service.join(alice, "topic:a");
    await service.join(alice, "topic:b");
    await service.disconnect(alice);
    expect(seen).toEqual(["+alice topic:a", "+alice topic:b", "-alice topic:a", "-alice topic:b"]);
    expect(published.filter((m) => m.event.startsWith("room:"))).toEqual([]);
    expect(await service.members("acme", "topic:a")).toEqual([]);
  });
});
