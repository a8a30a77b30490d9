import { useEffect, useState } from "react";
import { fetchDemoUsers, type DemoUser } from "./session.js";

/** The people this page knows by name: the demo users, when the server offers them. */
export function useDirectory(): readonly DemoUser[] {
  const [users, setUsers] = useState<readonly DemoUser[]>([]);
  useEffect(() => {
    let alive = true;
    fetchDemoUsers()
      .then((res) => alive && setUsers(res?.users ?? []))
      .catch(() => {});
    return () => {
      alive = false;
    };
  }, []);
  return users;
}
