import { useEffect, useState } from "react";
import type { SwitchboardError, Viewer } from "@switchboard/client";
import { useSwitchboard } from "./context.js";
import { holdWhileMounted } from "./retry.js";

/**
 * Announces that this user is viewing `resource` (e.g. `patient:42`) while
 * mounted, and returns who else is (the caller included, as the server lists
 * them). `error` is set when viewing is not allowed (`forbidden`).
 */
export function useRecordViewers(resource: string | undefined): { viewers: readonly Viewer[]; error: SwitchboardError | null } {
  const client = useSwitchboard();
  const [viewers, setViewers] = useState<readonly Viewer[]>([]);
  const [error, setError] = useState<SwitchboardError | null>(null);

  useEffect(() => {
    setViewers([]);
    setError(null);
    if (!resource) return;
    const off = client.presence.on("viewers", (changed, list) => changed === resource && setViewers(list));
    let mounted = true;
    const release = holdWhileMounted(
      client,
      async () => {
        const watch = await client.presence.watchResource(resource);
        if (mounted) setViewers(client.presence.viewersOf(resource) ?? watch.viewers);
        return watch.stop;
      },
      (err) => mounted && setError(err as SwitchboardError),
    );
    return () => {
      mounted = false;
      off();
      release();
    };
  }, [client, resource]);

  return { viewers, error };
}
