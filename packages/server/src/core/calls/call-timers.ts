/**
 * Named one-shot timers that never keep the process alive and are all dropped
 * on close. A timer here is only a prompt: whatever it triggers re-checks the
 * stored state, so a timer that fires late, twice, or on the wrong node does no
 * harm.
 */
export class CallTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  set(key: string, ms: number, fn: () => void): void {
    this.clear(key);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      fn();
    }, ms);
    timer.unref();
    this.timers.set(key, timer);
  }

  clear(key: string): void {
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
  }

  /** Clears every timer whose key starts with `prefix`. */
  clearPrefix(prefix: string): void {
    for (const key of [...this.timers.keys()]) if (key.startsWith(prefix)) this.clear(key);
  }

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
