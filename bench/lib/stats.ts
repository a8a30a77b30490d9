/** Latency samples in milliseconds, summarized as percentiles. */
export class Samples {
  private values: number[] = [];

  add(value: number): void {
    this.values.push(value);
  }

  addAll(values: number[]): void {
    for (const v of values) this.values.push(v);
  }

  get count(): number {
    return this.values.length;
  }

  percentile(p: number): number {
    if (this.values.length === 0) return Number.NaN;
    const sorted = Float64Array.from(this.values).sort();
    const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    return sorted[index]!;
  }

  summary(): { count: number; p50: number; p99: number; p999: number; max: number } {
    const round = (v: number) => Math.round(v * 100) / 100;
    return {
      count: this.count,
      p50: round(this.percentile(50)),
      p99: round(this.percentile(99)),
      p999: round(this.percentile(99.9)),
      max: round(this.percentile(100)),
    };
  }
}

/** CPU seconds (user + system) all cores have spent busy so far (everything but idle and iowait), from /proc/stat. */
export async function machineBusyCpuSeconds(): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const [user, nice, system, , , irq, softirq, steal] = (await readFile("/proc/stat", "utf8")).split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

/**
 * CPU seconds used so far by the local PostgreSQL server's processes, keyed by
 * pid (see {@link postgresCpuBetween}).
 */
export async function postgresCpuSeconds(): Promise<Map<number, number>> {
  const { readdir, readFile } = await import("node:fs/promises");
  const result = new Map<number, number>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    if (!stat.includes("(postgres)")) continue;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    result.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / 100);
  }
  return result;
}

/**
 * CPU seconds the PostgreSQL processes used between two {@link postgresCpuSeconds}
 * readings. A backend started in between counts in full (a pool opens its
 * connections as load grows); one that ended in between is missed, which
 * the pools under test, holding their connections, do not do.
 */
export function postgresCpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let seconds = 0;
  for (const [pid, used] of after) seconds += used - (before.get(pid) ?? 0);
  return seconds;
}

/** CPU seconds (user + system) a Linux process has used so far, from /proc. */
export async function processCpuSeconds(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100;
}

/**
 * Write system calls (write, writev, sendmsg...) a Linux process has made so
 * far, from /proc/<pid>/io `syscw`: a count that does not depend on how busy
 * the machine is, so before/after comparisons of the write path hold on a
 * shared box.
 */
export async function processWriteSyscalls(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const io = await readFile(`/proc/${pid}/io`, "utf8");
  return Number(/syscw:\s+(\d+)/.exec(io)?.[1] ?? Number.NaN);
}
