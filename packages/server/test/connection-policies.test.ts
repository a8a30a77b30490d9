import pino from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Connection } from "../src/core/connection.js";
import type { ConnectionRegistry } from "../src/core/connection-registry.js";
import { ConnectionPolicies } from "../src/core/limits/connection-policies.js";
import type { RequestGuard } from "../src/core/limits/request-guard.js";

/**
 * How the slow-consumer and idle checks are spread over the check interval.
 * The end-to-end behaviour (idle sessions logged off, slow consumers closed)
 * is in limits.test.ts against a real server; here fake timers show when each
 * connection is checked, which no client can see.
 */
describe("connection policies' checks", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A connection that records, under its id in `checks`, the fake time of every check of it. */
  function recordedConnection(id: string, checks: Map<string, number[]>): Connection {
    checks.set(id, checks.get(id) ?? []);
    return {
      id,
      caller: { tenantId: "acme", userId: id, roles: [] },
      bufferedBytes: () => {
        checks.get(id)!.push(Date.now());
        return 0;
      },
    } as unknown as Connection;
  }

  /** Policies over `count` connections, recording the fake time of every check of each. */
  async function policiesOver(count: number) {
    const checks = new Map<string, number[]>();
    const policies = new ConnectionPolicies({} as ConnectionRegistry, { forget() {} } as unknown as RequestGuard, {
      maxConnectionsPerUser: 10,
      maxBufferedBytes: 1 << 20,
      idleTimeoutMs: 0,
      checkIntervalMs: 1000,
      logger: pino({ level: "silent" }),
    });
    for (let i = 0; i < count; i++) await policies.connected(recordedConnection(`c${i}`, checks));
    return { policies, checks, start: Date.now() };
  }

  /** The distinct times at which checks ran in [from, to), with how many ran at each. */
  function slices(checks: Map<string, number[]>, from: number, to: number): Map<number, number> {
    const at = new Map<number, number>();
    for (const times of checks.values()) for (const t of times) if (t >= from && t < to) at.set(t, (at.get(t) ?? 0) + 1);
    return at;
  }

  it("a server with a thousand connections or fewer checks them all in one wake-up a second", async () => {
    const { policies, checks, start } = await policiesOver(300);
    await vi.advanceTimersByTimeAsync(3000);
    const second = slices(checks, start + 1000, start + 2000);
    expect([...second.values()]).toEqual([300]);
    for (const times of checks.values()) expect(times.length).toBeGreaterThanOrEqual(2);
    policies.close();
  });

  it("more connections are checked in slices of at most a thousand, each connection once a round", async () => {
    const { policies, checks, start } = await policiesOver(2500);
    await vi.advanceTimersByTimeAsync(4000);
    // Rounds begin after one interval; look at a whole later second.
    const second = slices(checks, start + 2000, start + 3000);
    expect(second.size).toBe(3);
    expect(Math.max(...second.values())).toBeLessThanOrEqual(1000);
    expect([...second.values()].reduce((a, b) => a + b, 0)).toBe(2500);
    // Every connection comes round about once a second, never twice in one round.
    for (const times of checks.values()) {
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(900);
    }
    policies.close();
  });

  it("a very large server stops at twenty slices a round", async () => {
    const { policies, checks, start } = await policiesOver(40_000);
    await vi.advanceTimersByTimeAsync(3000);
    const second = slices(checks, start + 1000, start + 2000);
    expect(second.size).toBe(20);
    expect([...second.values()].reduce((a, b) => a + b, 0)).toBe(40_000);
    policies.close();
  });

  it("no check wakes a server without connections; the first connection arms the checks and the last one's departure ends them", async () => {
    const { policies, checks } = await policiesOver(0);
    expect(vi.getTimerCount()).toBe(0);
    const connection = recordedConnection("late", checks);
    await policies.connected(connection);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(2500);
    expect(checks.get("late")).toHaveLength(2);
    await policies.disconnected(connection);
    await vi.advanceTimersByTimeAsync(1000);
    expect(vi.getTimerCount()).toBe(0);
    await policies.connected(connection);
    await vi.advanceTimersByTimeAsync(1000);
    expect(checks.get("late")).toHaveLength(3);
    policies.close();
  });

  it("close leaves no timer behind", async () => {
    const { policies, checks, start } = await policiesOver(10);
    await vi.advanceTimersByTimeAsync(1500);
    policies.close();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(3000);
    // After the close: a slice due at the close's own instant ran before it.
    expect(slices(checks, start + 1501, start + 4501).size).toBe(0);
  });
});
