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

  /** Writes everything held (also called on close, so nothing stays corked). */
  readonly release = (): void => {
    this.scheduled = false;
    const sockets = [...this.held];
    this.held.clear();
    for (const socket of sockets) socket.uncork();
  };

  /** Makes every frame sent on this WebSocket go through {@link hold}. */
  wrap(websocket: WebSocket, socket: Duplex): WebSocket {
    const send = websocket.send.bind(websocket) as (...args: unknown[]) => void;
    (websocket as { send: (...args: unknown[]) => void }).send = (...args: unknown[]) => {
      this.hold(socket);
      send(...args);
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
