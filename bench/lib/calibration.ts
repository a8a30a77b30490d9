import { closeSync, openSync, writeSync } from "node:fs";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { Worker } from "node:worker_threads";

/** How fast this machine ran three fixed workloads, measured right after a run. */
export interface MachineSpeed {
  /** JSON round trips (stringify + parse) of a chat-message-sized object per millisecond, on one core. */
  jsonRoundTripsPerMs: number;
  /** 64-byte `write` system calls to /dev/null per millisecond. */
  writeSyscallsPerMs: number;
  /**
   * Microseconds per one-byte round trip over loopback TCP between this thread
   * and a worker thread: each leg wakes the other thread, as every delivery of
   * a benchmark wakes a client process.
   */
  loopbackRoundTripMicros: number;
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

/** The worker's side of the loopback round trips: echoes every byte back. */
const ECHO = `
const { connect } = require("node:net");
const { workerData } = require("node:worker_threads");
const socket = connect(workerData.port, "127.0.0.1");
socket.setNoDelay(true);
socket.on("data", (chunk) => socket.write(chunk));
socket.on("error", () => {});
`;

/** Median microseconds per round trip of `count` one-byte round trips to an echoing worker thread. */
async function loopbackRoundTripMicros(count: number): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const worker = new Worker(ECHO, { eval: true, workerData: { port: (server.address() as AddressInfo).port } });
  try {
    const socket = await new Promise<Socket>((resolve) => server.once("connection", resolve));
    socket.setNoDelay(true);
    const times: number[] = [];
    await new Promise<void>((resolve) => {
      let sent = performance.now();
      socket.on("data", () => {
        const now = performance.now();
        times.push((now - sent) * 1000);
        if (times.length === count) return resolve();
        sent = now;
        socket.write("x");
      });
      socket.write("x");
    });
    socket.destroy();
    times.sort((a, b) => a - b);
    return Math.round(times[Math.floor(count / 2)]! * 10) / 10;
  } finally {
    await worker.terminate();
    server.close();
  }
}

/**
 * Measures {@link MachineSpeed} (about 0.6 s).
 *
 * Why: this machine's speed changes from hour to hour for code that did not
 * change (in sessions 12 and 13 plain Socket.IO connected 999 to 2,075
 * clients/s from run to run). Each result file records these gauges, so a
 * reader comparing two runs may tell a slower machine from a slower server.
 * They are a gauge, not a model: the servers' own costs are mostly socket
 * writes that wake another process, and JavaScript, and these cover one cheap
 * case of each. The JSON and /dev/null rates read the same in a fast and a
 * slow state in session 13; between that session's AMD host and session 14's
 * Intel host the /dev/null rate moved 6-8x (477 against 2,706-3,734 calls/ms
 * after full runs), and every server's speed with it.
 */
export async function machineSpeed(): Promise<MachineSpeed> {
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
  return { jsonRoundTripsPerMs, writeSyscallsPerMs, loopbackRoundTripMicros: await loopbackRoundTripMicros(2000) };
}
