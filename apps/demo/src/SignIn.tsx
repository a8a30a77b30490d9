import { useEffect, useState, type FormEvent } from "react";
import { Brand } from "./components/Brand.js";
import { fetchDemoUsers, sessionFromToken, signInAsDemoUser, type DemoUser, type Session } from "./session.js";
import { initials } from "./initials.js";

const ROLE_LABEL: Record<string, string> = { provider: "Provider", patient: "Patient", support: "Support" };

/**
 * Sign-in: one click per demo user when the server runs on its development
 * secret (`/dev/users` exists), otherwise a field for a JWT from the app's own auth.
 */
export function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [users, setUsers] = useState<DemoUser[] | null | undefined>(undefined);
  const [error, setError] = useState<string>();
  const [pasted, setPasted] = useState("");
  const [busy, setBusy] = useState<string>();

  useEffect(() => {
    fetchDemoUsers()
      .then((res) => setUsers(res?.users ?? null))
      .catch((err: Error) => {
        setUsers(null);
        setError(err.message);
      });
  }, []);

  const pick = async (userId: string) => {
    setBusy(userId);
    setError(undefined);
    try {
      onSignedIn(await signInAsDemoUser(userId));
    } catch (err) {
      setError((err as Error).message);
      setBusy(undefined);
    }
  };

  const paste = (event: FormEvent) => {
    event.preventDefault();
    try {
      onSignedIn(sessionFromToken(pasted));
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <main className="signin">
      <section className="signin-card">
        <Brand large />
        <p className="muted">A demo of chat, presence, notifications and calls on a self-hosted Switchboard server.</p>
        {users === undefined && <p className="muted">Loading…</p>}
        {users && (
          <>
            <h2>Sign in as</h2>
            <ul className="user-picker" data-testid="demo-users">
              {users.map((user) => (
                <li key={user.userId}>
                  <button type="button" className="user-choice" disabled={Boolean(busy)} onClick={() => void pick(user.userId)} data-user={user.userId}>
                    <span className="avatar">{initials(user.name)}</span>
                    <span className="user-choice-text">
                      <strong>{user.name}</strong>
                      <span className="muted">{user.roles.map((r) => ROLE_LABEL[r] ?? r).join(", ")}</span>
                    </span>
                    {busy === user.userId && <span className="muted">…</span>}
                  </button>
                </li>
              ))}
            </ul>
            <p className="hint">Open a second tab (or a private window) and sign in as someone else to talk to yourself.</p>
          </>
        )}
        {users === null && (
          <form onSubmit={paste} className="paste-form">
            <h2>Sign in with a token</h2>
            <p className="muted">This server has its own JWT secret, so demo sign-in is off. Paste a user token from your app.</p>
            <textarea value={pasted} onChange={(e) => setPasted(e.target.value)} placeholder="eyJhbGciOi…" rows={4} aria-label="JWT" />
            <button type="submit" className="button primary" disabled={!pasted.trim()}>
              Connect
            </button>
          </form>
        )}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </section>
    </main>
  );
}
