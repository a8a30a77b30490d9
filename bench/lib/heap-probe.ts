/**
 * Loaded into a server under test (with `--expose-gc`): on SIGUSR2 it runs two
 * full garbage collections and writes `process.memoryUsage()` to
 * `heap-probe-<pid>.json` in `BENCH_PROBE_DIR` (default the system temp
 * directory), so a harness can read what the server keeps alive, not what it
 * has yet to collect. Used by `recovery-memory.ts`.
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("heap-probe needs node --expose-gc");
const file = join(process.env.BENCH_PROBE_DIR ?? tmpdir(), `heap-probe-${process.pid}.json`);
process.on("SIGUSR2", () => {
  gc();
  gc();
  writeFileSync(file, JSON.stringify(process.memoryUsage()));
});
