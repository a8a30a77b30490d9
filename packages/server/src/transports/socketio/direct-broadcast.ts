import type { Socket } from "socket.io";

/** What a Socket.IO adapter passes with a broadcast's encoded packets (socket.io-adapter's `packetOpts`). */
interface BroadcastPacketOptions {
  volatile?: boolean;
  /** The WebSocket frame of the whole Engine.IO packet, built once for every recipient (`ws`'s `Sender.frame`). */
  wsPreEncodedFrame?: unknown;
}

/** The parts of an Engine.IO socket this reads. */
interface EngineSocket {
  readyState: string;
  writeBuffer: unknown[];
  transport: {
    name: string;
    perMessageDeflate?: unknown;
    /** The `ws` WebSocket of the WebSocket transport (polling has none). */
    socket?: { readyState: number; _sender?: { sendFrame?: (list: unknown, callback?: unknown) => void } };
  };
}

/** The parts of a Socket.IO `Client` (one per Engine.IO connection) this reads and replaces. */
export interface SocketIoClient {
  conn: EngineSocket;
  writeToEngine(encodedPackets: unknown, options: BroadcastPacketOptions): void;
}

/** `ws`'s `WebSocket.OPEN`. */
const OPEN = 1;

/**
 * A `Client#writeToEngine` that writes a broadcast's pre-built WebSocket frame
 * straight to the client's WebSocket when nothing can be ahead of it, and
 * hands everything else to Engine.IO's own `writeToEngine`.
 *
 * Why: a Socket.IO room broadcast is encoded once, and socket.io-adapter also
 * builds its WebSocket frame once (`wsPreEncodedFrame`); but each recipient's
 * copy still goes through Engine.IO's send path: a packet object, the
 * `packetCreate`, `flush` and `drain` events of the socket and of the server,
 * the write buffer, the transport's `writable` flag, and a write callback that
 * later emits `drain` and `ready` and flushes again. For the frame that is
 * already built, that is bookkeeping around the one `sendFrame` call Engine.IO
 * makes in the end. Here the frame goes to `sendFrame` directly, as the raw `ws`
 * benchmark peer writes its pre-serialized frame.
 *
 * Order is kept: the direct write is taken only when Engine.IO's write buffer
 * is empty, so no packet of this client is waiting ahead of the frame; what
 * Engine.IO has already handed to the WebSocket is ahead of it in the TCP
 * socket; and a packet Engine.IO queues later is written after it. Everything
 * else keeps Engine.IO's path: packets with no pre-built frame (a socket's own
 * emits, binary or several-part packets), volatile ones (Engine.IO drops them
 * while its transport is busy), long-polling and upgrading connections, and a
 * WebSocket that is no longer open. A write error surfaces on the TCP socket,
 * where `ws` closes the WebSocket and Engine.IO sees the transport close, as it
 * does for an error of its own writes. A client that stops reading piles the
 * frames up in the WebSocket's buffer instead of Engine.IO's: both count in
 * {@link SocketConnection.bufferedBytes}, which the slow-consumer policy reads.
 *
 * The frame is written through `_sender.sendFrame`, as Engine.IO writes
 * pre-built frames itself, so the write coalescer's hook sees it too.
 *
 * @param engineWrite Engine.IO's own `writeToEngine` (the `Client` prototype's).
 */
export function directBroadcastWrite(engineWrite: SocketIoClient["writeToEngine"]): SocketIoClient["writeToEngine"] {
  return function writeToEngine(this: SocketIoClient, encodedPackets: unknown, options: BroadcastPacketOptions): void {
    const frame = options.wsPreEncodedFrame;
    if (frame !== undefined && options.volatile !== true) {
      const conn = this.conn;
      if (conn.readyState === "open" && conn.writeBuffer.length === 0) {
        const transport = conn.transport;
        const websocket = transport.socket;
        const sendFrame = websocket?._sender?.sendFrame;
        if (transport.name === "websocket" && !transport.perMessageDeflate && websocket!.readyState === OPEN && typeof sendFrame === "function") {
          sendFrame.call(websocket!._sender, frame);
          return;
        }
      }
    }
    engineWrite.call(this, encodedPackets, options);
  };
}

/**
 * Gives each connecting socket's client {@link directBroadcastWrite}: call the
 * returned function from the `connection` handler. Every client gets the same
 * function (made from the first client's prototype), so the adapter's call
 * site sees one target.
 */
export function directBroadcasts(): (socket: Socket) => void {
  let write: SocketIoClient["writeToEngine"] | undefined;
  return (socket) => {
    const client = socket.client as unknown as SocketIoClient;
    write ??= directBroadcastWrite((Object.getPrototypeOf(client) as SocketIoClient).writeToEngine);
    client.writeToEngine = write;
  };
}
