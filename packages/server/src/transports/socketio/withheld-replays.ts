import type { Socket } from "socket.io";

/** Socket.IO's packet type for an event (socket.io-parser's `PacketType.EVENT`). */
const EVENT = 2;
/** How long a replay waits for its handshake to pass the token check; a refused one is dropped then. */
const HOLD_MS = 30_000;

/**
 * The broadcasts a recovered session missed, held back until its handshake's
 * token has been checked.
 *
 * Why: Socket.IO writes a restored session's missed packets while it builds the
 * socket, before any middleware runs. So anyone presenting a session's id
 * (`pid`) and offset got that session's missed chat messages, call signals and
 * notifications first, and the refusal of their missing or foreign token after.
 * The adapter's `restoreSession` hands Socket.IO the session without them; they
 * are kept here and written by {@link release} once the connection is accepted,
 * which happens only when the token names the session's user and tenant.
 */
export class WithheldReplays {
  private readonly held = new Map<string, { packets: unknown[][]; timer: NodeJS.Timeout }>();

  /** Keeps a restoring session's missed packets under its private session id. */
  hold(pid: string, packets: unknown[][]): void {
    this.take(pid);
    const timer = setTimeout(() => this.held.delete(pid), HOLD_MS);
    timer.unref();
    this.held.set(pid, { packets, timer });
  }

  /** Writes the packets held for this accepted, recovered socket, in order (before anything else is sent to it). */
  release(socket: Socket): void {
    const pid = (socket as unknown as { pid?: string }).pid;
    if (pid === undefined) return;
    const write = (socket as unknown as { packet(packet: { type: number; data: unknown[] }): void }).packet.bind(socket);
    for (const data of this.take(pid)) write({ type: EVENT, data });
  }

  private take(pid: string): unknown[][] {
    const entry = this.held.get(pid);
    if (!entry) return [];
    clearTimeout(entry.timer);
    this.held.delete(pid);
    return entry.packets;
  }

  /** Drops everything held (the server is stopping). */
  clear(): void {
    for (const { timer } of this.held.values()) clearTimeout(timer);
    this.held.clear();
  }
}
