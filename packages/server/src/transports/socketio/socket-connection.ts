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

  *channels(): Iterable<string> {
    for (const room of this.socket.rooms) {
      const channel = channelOfRoom(this.caller.tenantId, room);
      if (channel !== undefined) yield channel;
    }
  }
}
