/** One run of a server under test: its result, and its stop, which may still be going on. */
export interface OverlappedRun<R> {
  result: R;
  stopped: Promise<void>;
}

/**
 * Runs `run` for each item in order, handing each the stop of the run before:
 * a server's stop (seconds, with thousands of connections) overlaps the next
 * server's start, and each run waits for it before it measures anything.
 * Resolves with the results, in order, once the last stop is over.
 */
export async function runOverlapped<T, R>(items: readonly T[], run: (item: T, previousStopped: Promise<void>) => Promise<OverlappedRun<R>>): Promise<R[]> {
  const results: R[] = [];
  let stopped: Promise<void> = Promise.resolve();
  for (const item of items) {
    const next = await run(item, stopped);
    results.push(next.result);
    stopped = next.stopped;
  }
  await stopped;
  return results;
}
