import { pino } from "pino";
import { describe, expect, it, vi } from "vitest";
import { LazyRequestLogger } from "../src/transports/http/request-logger.js";

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const parent = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { lines, parent, child: vi.spyOn(parent, "child") };
}

describe("a request's lazy logger", () => {
  it("makes no child logger for lines at a level the server does not log", () => {
    const { lines, parent, child } = capture("info");
    const log = new LazyRequestLogger(parent, { reqId: "req-1" }, {});
    log.debug({ url: "/x" }, "not logged");
    log.trace("not logged either");
    expect(child).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
    expect(log.level).toBe("info");
  });

  it("writes enabled lines with the request id bound, through one child made at the first line", () => {
    const { lines, parent, child } = capture("info");
    const log = new LazyRequestLogger(parent, { reqId: "req-2" }, {});
    log.error({ code: "internal" }, "request failed");
    log.warn("and a warning");
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines).toMatchObject([
      { level: 50, reqId: "req-2", code: "internal", msg: "request failed" },
      { level: 40, reqId: "req-2", msg: "and a warning" },
    ]);
  });

  it("follows a route's own log level rather than the server's", () => {
    const { lines, parent } = capture("info");
    const log = new LazyRequestLogger(parent, { reqId: "req-3" }, { level: "debug" });
    expect(log.level).toBe("debug");
    log.debug("route-level debug line");
    expect(lines).toMatchObject([{ level: 20, reqId: "req-3", msg: "route-level debug line" }]);
  });
});
