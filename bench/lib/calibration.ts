import { closeSync, openSync, writeSync } from "node:fs";

/** How fast this machine ran two fixed workloads, measured right after a run. */
export interface MachineSpeed {
  /** JSON round trips (stringify + parse) of a chat-message-sized object per millisecond, on one core. */
  jsonRoundTripsPerMs: number;
  /** 64-byte `write` system calls to /dev/null per millisecond. */
  writeSyscallsPerMs: number;
}

const SAMPLE = {
  type: "message:new",
  conversationId: "0b7e8c1e-5d1a-4a3e-9a53-3c2f4b1d9e77",
  seq: 1234,
  senderId: "user-42",
  senderName: "Bench User",
  body: "t=12345.678 how are you feeling today?",
  createdAt: "2026-12-05T08:00:00.000Z",
};

/** Runs `op` in rounds for about `ms` milliseconds, after an unmeasured 50 ms (the JIT settles); returns calls per millisecond. */
function rate(ms: number, op: () => void): number {
  for (const warmup = performance.now(); performance.now() - warmup < 50; ) for (let i = 0; i < 200; i++) op();
  const started = performance.now();
  let calls = 0;
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 200; i++) op();
    calls += 200;
    elapsed = performance.now() - started;
  }
  return Math.round(calls / elapsed);
}

/**
 * Measures {@link MachineSpeed} (about 0.5 s, synchronously).
 *
 * Why: this machine's speed changes from hour to hour for code that did not
 * change (sessions 12 and 13 saw the peers connect at half, then a fifth, of
 * their usual rate). Each result file records these two rates, so a reader
 * comparing two runs can tell a slower machine from a slower server. They are
 * a gauge, not a model: the servers' own costs are mostly socket writes and
 * JavaScript, and these cover one cheap case of each.
 */
export function machineSpeed(): MachineSpeed {
  let sink = 0;
  const jsonRoundTripsPerMs = rate(200, () => {
    sink += (JSON.parse(JSON.stringify(SAMPLE)) as typeof SAMPLE).seq;
  });
  const fd = openSync("/dev/null", "w");
  const chunk = Buffer.alloc(64, 1);
  let writeSyscallsPerMs: number;
  try {
    writeSyscallsPerMs = rate(200, () => void writeSync(fd, chunk));
  } finally {
    closeSync(fd);
  }
  if (sink < 0) console.error(sink); // keeps the JSON work from being optimized away
  return { jsonRoundTripsPerMs, writeSyscallsPerMs };
}
