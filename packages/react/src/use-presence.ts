import { useEffect, useState } from "react";
import type { PresenceInfo } from "@switchboard/client";
import { useSwitchboard } from "./context.js";
import { holdWhileMounted } from "./retry.js";

/**
 * Live presence of users, keyed by user id (subscribed while mounted; a user
 * whose state is not known yet is missing from the map).
 */
export function usePresence(userIds: readonly string[]): Readonly<Record<string, PresenceInfo>> {
  const client = useSwitchboard();
  const key = [...new Set(userIds)].sort().join("\n");
  const [presence, setPresence] = useState<Readonly<Record<string, PresenceInfo>>>({});

  useEffect(() => {
    const ids = key ? key.split("\n") : [];
    if (ids.length === 0) return setPresence({});
    const wanted = new Set(ids);
    const initial: Record<string, PresenceInfo> = {};
    for (const id of ids) {
      const known = client.presence.peek(id);
      if (known) initial[id] = known;
    }
    setPresence(initial);
    const offChange = client.presence.on("change", (info) => {
      if (wanted.has(info.userId)) setPresence((current) => ({ ...current, [info.userId]: info }));
    });
    let mounted = true;
    const release = holdWhileMounted(
      client,
      async () => {
        const { presence: list, unsubscribe } = await client.presence.subscribe(ids);
        if (mounted) setPresence((current) => ({ ...current, ...Object.fromEntries(list.map((p) => [p.userId, p])) }));
        return unsubscribe;
      },
      () => {},
    );
    return () => {
      mounted = false;
      offChange();
      release();
    };
  }, [client, key]);

  return presence;
}
