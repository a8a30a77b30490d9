/** Latency samples in milliseconds, summarized as percentiles. */
export class Samples {
  private values: number[] = [];
  /** The values sorted, kept until the next add: a summary asks for four percentiles of up to a million samples. */
  private sorted: Float64Array | undefined;

  add(value: number): void {
    this.values.push(value);
    this.sorted = undefined;
  }

  addAll(values: number[]): void {
    for (const v of values) this.values.push(v);
    this.sorted = undefined;
  }

  get count(): number {
    return this.values.length;
  }

  percentile(p: number): number {
    if (this.values.length === 0) return Number.NaN;
    const sorted = (this.sorted ??= Float64Array.from(this.values).sort());
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

/**
 * The fields of a `/proc/<pid>/stat` line after "pid (comm) ": state, ppid, ...,
 * utime at index 11, stime, cutime, cstime (clock ticks). The command name may
 * hold spaces and parentheses, so the split starts after its last ")".
 */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** CPU seconds (user + system) all cores have spent busy so far (everything but idle and iowait), from /proc/stat. */
export async function machineBusyCpuSeconds(): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const [user, nice, system, , , irq, softirq, steal] = (await readFile("/proc/stat", "utf8")).split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

/**
 * CPU seconds used so far by the local PostgreSQL server, keyed by pid (see
 * {@link postgresCpuBetween}): the postmaster (a `postgres` process whose
 * parent is not one) with the CPU of the children it has reaped (backends and
 * autovacuum workers that ended), and each live child of it. Other processes
 * named postgres (another cluster) are not counted.
 */
export async function postgresCpuSeconds(): Promise<Map<number, number>> {
  const { readdir, readFile } = await import("node:fs/promises");
  const processes: { pid: number; ppid: number; own: number; reaped: number }[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    if (!stat.startsWith(`${entry} (postgres) `)) continue;
    const fields = statFields(stat);
    processes.push({
      pid: Number(entry),
      ppid: Number(fields[1]),
      own: (Number(fields[11]) + Number(fields[12])) / 100,
      reaped: (Number(fields[13]) + Number(fields[14])) / 100,
    });
  }
  const pids = new Set(processes.map((p) => p.pid));
  const postmasters = new Set(processes.filter((p) => !pids.has(p.ppid)).map((p) => p.pid));
  const result = new Map<number, number>();
  for (const p of processes) {
    if (postmasters.has(p.pid)) result.set(p.pid, p.own + p.reaped);
    else if (postmasters.has(p.ppid)) result.set(p.pid, p.own);
  }
  return result;
}

/**
 * CPU seconds the PostgreSQL server used between two {@link postgresCpuSeconds}
 * readings. A child started in between counts in full; one that ended in
 * between shows up in the postmaster's reaped CPU, except for what it used
 * before the first reading (counted again, a small overcount only when a
 * long-lived backend ends mid-phase, which the pools under test do not do).
 */
export function postgresCpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let seconds = 0;
  for (const [pid, used] of after) seconds += used - (before.get(pid) ?? 0);
  return seconds;
}

/** CPU seconds (user + system) a Linux process has used so far, from /proc. */
export async function processCpuSeconds(pid: number): Promise<number> {
  const { readFile } = await import("node:fs/promises");
  const fields = statFields(await readFile(`/proc/${pid}/stat`, "utf8"));
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

/**
 * Two-sided sign test: the chance, were two servers alike (each paired round
 * a coin toss), of a split at least as uneven as `atOrUnder` of `pairs`.
 * Small (under 0.05) means the rounds tell the servers apart; large means
 * they do not.
 */
export function signTestTwoSided(pairs: number, atOrUnder: number): number {
  const k = Math.min(atOrUnder, pairs - atOrUnder);
  let tail = 0;
  let choose = 1;
  for (let i = 0; i <= k; i++) {
    tail += choose / 2 ** pairs;
    choose = (choose * (pairs - i)) / (i + 1);
  }
  return Math.min(1, 2 * tail);
}

/** The geometric mean of ratios (a 0.5 and a 2.0 average to 1.0, as they should). */
export function geometricMean(ratios: readonly number[]): number {
  return Math.exp(ratios.reduce((sum, r) => sum + Math.log(r), 0) / ratios.length);
}
