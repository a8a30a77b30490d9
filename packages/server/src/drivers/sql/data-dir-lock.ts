import { readFileSync } from "node:fs";
import { open, readFile, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";

/** The lock file a process holding a PGlite data directory writes into it. */
export const LOCK_FILE = "switchboard.lock";

interface LockOwner {
  pid: number;
  host: string;
}

/** Thrown when another live process on this host holds the data directory. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `DATA_DIR ${dataDir} is in use by another Switchboard process (pid ${pid}): the embedded database serves one process at a time. ` +
        "Stop that process first, or run with DATABASE_URL (Postgres), which any number of processes share. " +
        `(If no process uses it, a stale ${join(dataDir, LOCK_FILE)} may be deleted.)`,
    );
    this.name = "DataDirInUseError";
  }
}

/**
 * Takes a PGlite data directory for this process, or refuses with
 * {@link DataDirInUseError}. Why: PGlite is Postgres in this process's memory,
 * so two processes opening one directory each cache their own copy and
 * overwrite each other's files (`switchboard keys create` beside a running
 * server: keys seen late or never, a revoked key still accepted, `Aborted()`
 * crashes). A lock left by a process that is gone (a crash, a container
 * restart, where pids repeat) is taken over. Resolves with the release.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = join(dataDir, LOCK_FILE);
  const mine = JSON.stringify({ pid: process.pid, host: hostname() } satisfies LockOwner);
  for (let attempt = 0; ; attempt++) {
    try {
      const file = await open(path, "wx");
      await file.writeFile(mine);
      await file.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      // Another process took it over between our removal and our retry.
      if (attempt > 0) throw new DataDirInUseError(dataDir, (await readOwner(path))?.pid ?? -1);
      const owner = await readOwner(path);
      if (owner && owner.host === hostname() && owner.pid !== process.pid && isSwitchboardAlive(owner.pid)) throw new DataDirInUseError(dataDir, owner.pid);
      // Stale (or unreadable, or another host's over a shared volume, which this cannot judge): take it over.
      await rm(path, { force: true });
    }
  }
  return async () => {
    // Only our own lock: a process that took over a lock it judged stale must keep it.
    if ((await readOwner(path))?.pid === process.pid) await rm(path, { force: true });
  };
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(path, "utf8")) as Partial<LockOwner>;
    return typeof owner.pid === "number" && typeof owner.host === "string" ? { pid: owner.pid, host: owner.host } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is a live Node process. Where /proc exists its command line is
 * read, so an unrelated process that got the pid of a dead server (a container
 * restarted on the same volume) does not keep the directory locked.
 */
function isSwitchboardAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    return /node/i.test(readFileSync(`/proc/${pid}/cmdline`, "utf8"));
  } catch {
    return true; // no /proc here: alive is all that can be known
  }
}
