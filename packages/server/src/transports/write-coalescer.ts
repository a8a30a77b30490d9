import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type ServerOptions, type WebSocket } from "ws";

/** The callback of a `write` to a TCP socket. */
type WriteCallback = (err?: Error | null) => void;

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
  /** Sockets corked this turn, with the callbacks of their held writes. */
  private held = new Map<Duplex, WriteCallback[]>();
  /** The sockets {@link release} is running callbacks for: still corked, and their new writes join this release. */
  private releasing: Map<Duplex, WriteCallback[]> | undefined;
  private scheduled = false;

  /** Holds the socket's writes until the end of this turn of the event loop. */
  hold(socket: Duplex): void {
    if (this.held.has(socket) || this.releasing?.has(socket) || socket.destroyed) return;
    socket.cork();
    this.held.set(socket, []);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.release);
    }
  }

  /**
   * Writes everything held; runs once per turn in which anything was held.
   *
   * The held writes' callbacks run first, while the sockets are still corked.
   * Engine.IO sends nothing more to a socket until its last write's callback
   * ran, and queues the socket's later packets meanwhile (a second chat message
   * or publish of the turn). Run at the uncork, the callback made it send that
   * queue in a write of its own, a turn later. Run before, the queue joins this
   * write. Callbacks may write again, with callbacks of their own, so they run
   * in rounds until none is left (Engine.IO needs two: its queue, then nothing).
   */
  readonly release = (): void => {
    this.scheduled = false;
    const batch = this.held;
    this.held = new Map();
    this.releasing = batch;
    try {
      for (let round = 0; round < 8; round++) {
        let ran = false;
        for (const [socket, callbacks] of batch) {
          if (callbacks.length === 0) continue;
          ran = true;
          for (const callback of callbacks.splice(0)) settle(socket, callback);
        }
        if (!ran) break;
      }
    } finally {
      this.releasing = undefined;
      for (const [socket, callbacks] of batch) {
        socket.uncork();
        // Callbacks of writes made in the last round: their bytes left with this uncork.
        for (const callback of callbacks) process.nextTick(settle, socket, callback);
      }
    }
  };

  /**
   * Makes every write to the WebSocket's TCP socket go through {@link hold}.
   *
   * The hook sits on the TCP socket, not on `websocket.send`: Socket.IO
   * broadcasts hand Engine.IO a frame encoded once for the whole room, and
   * Engine.IO writes it with `ws`'s internal `sendFrame`, which never calls
   * `send`. A fan-out or a chat message to a room is exactly the traffic that
   * piles up several frames per socket when the server is busy, so it must be
   * held too. A held write's callback is kept for {@link release}.
   */
  wrap(websocket: WebSocket, socket: Duplex): WebSocket {
    const write = socket.write.bind(socket) as (chunk: unknown, encoding?: BufferEncoding, callback?: WriteCallback) => boolean;
    (socket as { write: (...args: unknown[]) => boolean }).write = (chunk: unknown, encoding?: unknown, callback?: unknown) => {
      const done = (typeof encoding === "function" ? encoding : callback) as WriteCallback | undefined;
      const enc = typeof encoding === "string" ? (encoding as BufferEncoding) : undefined;
      // A destroyed socket fails the write at once; its callback must hear the error.
      if (socket.destroyed) return write(chunk, enc, done);
      this.hold(socket);
      if (done) (this.releasing?.get(socket) ?? this.held.get(socket)!).push(done);
      return write(chunk, enc);
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

/** Runs a held write's callback: with an error if the socket was destroyed before its bytes left. */
function settle(socket: Duplex, callback: WriteCallback): void {
  try {
    callback(socket.destroyed ? new Error("socket closed before the held write was sent") : null);
  } catch (err) {
    // A throwing callback must not leave the other sockets corked; it still surfaces.
    process.nextTick(() => {
      throw err;
    });
  }
}
