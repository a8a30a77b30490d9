import { useMemo, useState } from "react";
import { SwitchboardProvider } from "@switchboard/react";
import type { ClientOptions } from "@switchboard/client";
import { signInAsDemoUser, type Session } from "./session.js";
import { Clinic } from "./Clinic.js";

/**
 * One Switchboard client for the signed-in user of this tab. Demo sessions
 * renew their token through `/dev/token`; a pasted token cannot be renewed.
 */
export function Workspace({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const [options] = useState<ClientOptions>(() => ({
    url: window.location.origin,
    token: session.token,
    ...(session.demo && { getToken: async () => (await signInAsDemoUser(session.userId)).token }),
  }));
  const me = useMemo(() => ({ userId: session.userId, name: session.name, tenantId: session.tenantId }), [session]);
  return (
    <SwitchboardProvider options={options}>
      <Clinic me={me} onSignOut={onSignOut} />
    </SwitchboardProvider>
  );
}
