import { describe, expect, it } from "vitest";
import { Backoff } from "../src/backoff.js";

describe("reconnection backoff", () => {
  it("doubles up to the ceiling, shortened by the jitter fraction, and starts over after reset", () => {
    const full = new Backoff({ initialDelayMs: 100, maxDelayMs: 1000, jitter: 0.5 }, () => 0);
    expect(Array.from({ length: 6 }, () => full.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    const shortest = new Backoff({ initialDelayMs: 100, maxDelayMs: 1000, jitter: 0.5 }, () => 1);
    expect(Array.from({ length: 5 }, () => shortest.next())).toEqual([50, 100, 200, 400, 500]);
    full.reset();
    expect(full.next()).toBe(100);
  });

  it("spreads a server-given delay upwards only, so nobody comes back before the server asked", () => {
    const backoff = new Backoff({ jitter: 0.5 }, () => 1);
    expect(backoff.spread(2000)).toBe(3000);
    expect(new Backoff({ jitter: 0.5 }, () => 0).spread(2000)).toBe(2000);
  });
});
