import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type ServerOptions, type WebSocket } from "ws";

/**
 * Coalesces the frames written to one TCP socket during one turn of the event
 * loop into a single `writev` system call.
 *
 * Why: every WebSocket frame `ws` sends is its own write system call, and on a
 * busy server those calls, not JavaScript, are the largest cost (a CPU profile
 * of the chat benchmark shows `writev` as the top self-time entry). A chat
 * recipient or a fan-out subscriber often gets several frames in one turn
 * (messages of several conversations, acks, receipts); corking the socket at
 * the first frame and uncorking once the turn's I/O callbacks have run
 * (`setImmediate`) sends them together. Latency grows by at most the rest of
 * the current turn; nothing is reordered, since one socket's frames stay in
 * their order.
 */
export class WriteCoalescer {
  private readonly held = new Set<Duplex>();
  private scheduled = false;

  /** Holds the socket's writes until the end of this turn of the event loop. */
  hold(socket: Duplex): void {
    if (this.held.has(socket) || socket.destroyed) return;
    socket.cork();
    this.held.add(socket);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.release);
    }
  }

  /** Writes everything held; runs once per turn in which anything was held. */
  readonly release = (): void => {
    this.scheduled = false;
    const sockets = [...this.held];
    this.held.clear();
    for (const socket of sockets) socket.uncork();
  };

  /**
   * Makes every write to the WebSocket's TCP socket go through {@link hold}.
   *
   * The hook sits on the TCP socket, not on `websocket.send`: Socket.IO
   * broadcasts hand Engine.IO a frame encoded once for the whole room, and
   * Engine.IO writes it with `ws`'s internal `sendFrame`, which never calls
   * `send`. A fan-out or a chat message to a room is exactly the traffic that
   * piles up several frames per socket when the server is busy, so it must be
   * held too.
   */
  wrap(websocket: WebSocket, socket: Duplex): WebSocket {
    const write = socket.write.bind(socket) as (chunk: unknown, encoding?: BufferEncoding, callback?: (err?: Error | null) => void) => boolean;
    (socket as { write: (...args: unknown[]) => boolean }).write = (chunk: unknown, encoding?: unknown, callback?: unknown) => {
      const done = (typeof encoding === "function" ? encoding : callback) as ((err?: Error | null) => void) | undefined;
      const enc = typeof encoding === "string" ? (encoding as BufferEncoding) : undefined;
      // A destroyed socket fails the write; its callback must hear the error.
      if (socket.destroyed) return write(chunk, enc, done);
      this.hold(socket);
      const accepted = write(chunk, enc);
      // The callback is called on the next tick, as Node does for a write the kernel
      // took at once, not when the held bytes leave. Engine.IO sends nothing more
      // to a socket until its last frame's callback ran. Waiting for the release
      // sent a socket's second frame of a turn on its own, one turn later, through
      // Engine.IO's queue. Now it joins the held bytes. The bytes stay in the
      // socket's buffer until then, so `bufferedAmount` and the slow-consumer
      // check still count them.
      if (done) process.nextTick(done);
      return accepted;
    };
    return websocket;
  }

  /**
   * A `ws` server class for Engine.IO's `wsEngine` option whose sockets write
   * through this coalescer (Engine.IO constructs it itself, so the class closes
   * over this instance rather than a module-level one).
   */
  wsEngine(): new (options?: ServerOptions) => WebSocketServer {
    const coalescer = this;
    return class CoalescingWebSocketServer extends WebSocketServer {
      override handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, callback: (client: WebSocket, request: IncomingMessage) => void): void {
        super.handleUpgrade(request, socket, head, (client, req) => callback(coalescer.wrap(client, socket), req));
      }
    };
  }
}
