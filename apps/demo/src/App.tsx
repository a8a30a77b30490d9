import { useState } from "react";
import { loadSession, saveSession, type Session } from "./session.js";
import { SignIn } from "./SignIn.js";
import { Workspace } from "./Workspace.js";

/** Sign-in until this tab has a session, then the clinic workspace. */
export function App() {
  const [session, setSession] = useState<Session | undefined>(loadSession);
  const change = (next: Session | undefined) => {
    saveSession(next);
    setSession(next);
  };
  if (!session) return <SignIn onSignedIn={change} />;
  return <Workspace key={session.token} session={session} onSignOut={() => change(undefined)} />;
}
