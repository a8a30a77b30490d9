import type { SwitchboardClient } from "@switchboard/client";

/**
 * Runs `attempt` now and, whenever it fails with `unavailable` (not connected
 * in time), again at the next connection. Returns a function that stops retrying.
 */
export function untilConnected(client: SwitchboardClient, attempt: () => Promise<void>, onError: (error: Error) => void): () => void {
  let stopped = false;
  let off: (() => void) | undefined;
  const run = () => {
    attempt().catch((err: Error & { code?: string }) => {
      if (stopped) return;
      if (err.code !== "unavailable") return onError(err);
      off = client.onConnection("connected", () => {
        off?.();
        if (!stopped) run();
      });
    });
  };
  run();
  return () => {
    stopped = true;
    off?.();
  };
}
