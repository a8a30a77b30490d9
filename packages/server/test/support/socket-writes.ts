import type { Server } from "node:http";
import type { Socket } from "node:net";

/** Write system calls made on a TCP socket: `single` through `_write` (one buffer), `vectored` through `_writev`. */
export interface WriteCount {
  single: number;
  vectored: number;
}

/** Counts a TCP socket's write system-call paths (`_write` for one buffer, `_writev` for several) into `writes`. */
export function countWrites(socket: Socket, writes: WriteCount): void {
  const raw = socket as Socket & { _write: Function; _writev: Function };
  const write = raw._write.bind(raw);
  const writev = raw._writev.bind(raw);
  raw._write = (...args: unknown[]) => (writes.single++, write(...args));
  raw._writev = (...args: unknown[]) => (writes.vectored++, writev(...args));
}

/** Counts the writes to every socket `server` upgrades from now on (to WebSocket), from before the 101 response. */
export function countUpgradeWrites(server: Server): WriteCount {
  const writes = { single: 0, vectored: 0 };
  server.prependListener("upgrade", (_req, socket: Socket) => countWrites(socket, writes));
  return writes;
}
