import type { SwitchboardClient } from "@switchboard/client";

/**
 * Acquires something on the server (a subscription, a viewer announcement)
 * for as long as the caller holds it: `acquire` runs now and, whenever it fails
 * with `unavailable` (not connected in time), again at the next connection.
 * The returned function releases it (or stops trying); a release that arrives
 * while `acquire` is in flight is applied when it completes.
 */
export function holdWhileMounted(client: SwitchboardClient, acquire: () => Promise<() => void>, onError: (error: Error) => void): () => void {
  let released = false;
  let release: (() => void) | undefined;
  let off: (() => void) | undefined;
  const run = () => {
    acquire().then(
      (undo) => (released ? undo() : (release = undo)),
      (err: Error & { code?: string }) => {
        if (released) return;
        if (err.code !== "unavailable") return onError(err);
        off = client.onConnection("connected", () => {
          off?.();
          if (!released) run();
        });
      },
    );
  };
  run();
  return () => {
    released = true;
    off?.();
    release?.();
  };
}
