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
