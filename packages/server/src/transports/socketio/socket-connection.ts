import type { Socket } from "socket.io";
import type { Caller } from "../../auth/caller.js";
import type { Connection } from "../../core/connection.js";
import { channelOfRoom, roomKey } from "./room-key.js";

/** A Socket.IO socket seen by the core as a {@link Connection}. */
export class SocketConnection implements Connection {
  constructor(
    private readonly socket: Socket,
    readonly caller: Caller,
  ) {}

  get id(): string {
    return this.socket.id;
  }

  subscribe(channel: string): void {
    this.socket.join(roomKey(this.caller.tenantId, channel));
  }

  unsubscribe(channel: string): void {
    this.socket.leave(roomKey(this.caller.tenantId, channel));
  }

  notify(event: string, data: unknown): void {
    this.socket.emit(event, data);
  }

  close(reason: string): void {
    this.socket.data.closeReason = reason;
    const transport = this.socket.conn.transport as unknown as { socket?: { terminate?: () => void } };
    this.socket.disconnect(true);
    // As for plain WebSockets: do not wait 30 s for a close handshake a stuck client cannot answer.
    setTimeout(() => transport.socket?.terminate?.(), 1000).unref();
  }

  /**
   * Engine.IO queues packets in `writeBuffer` while the transport cannot write
   * (polling between requests), and the WebSocket queues bytes the kernel has not
   * taken (`bufferedAmount`). Both grow without bound for a client that stops
   * reading.
   */
  bufferedBytes(): number {
    const conn = this.socket.conn as unknown as { writeBuffer?: { data?: unknown }[]; transport?: { socket?: { bufferedAmount?: number } } };
    const queued = (conn.writeBuffer ?? []).reduce((n, packet) => n + (typeof packet.data === "string" ? packet.data.length : 64), 0);
    return queued + (conn.transport?.socket?.bufferedAmount ?? 0);
  }

  isSubscribed(channel: string): boolean {
    return this.socket.rooms.has(roomKey(this.caller.tenantId, channel));
  }

  *channels(): Iterable<string> {
    for (const room of this.socket.rooms) {
      const channel = channelOfRoom(this.caller.tenantId, room);
      if (channel !== undefined) yield channel;
    }
  }
}
