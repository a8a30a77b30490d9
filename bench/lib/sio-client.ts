import { WebSocket } from "ws";

/**
 * A minimal Socket.IO v5 / Engine.IO v4 client over a raw WebSocket, for load
 * generation: thousands of these fit in one process where the full
 * socket.io-client would make the load generator the bottleneck. It speaks just
 * what the benchmarks need: connect with auth, emit with ack, receive events,
 * answer pings.
 */
export class SioClient {
  private readonly ws: WebSocket;
  private nextAckId = 0;
  private readonly acks = new Map<number, (data: unknown) => void>();
  private readonly handlers = new Map<string, (data: any) => void>();
  readonly connected: Promise<void>;
  /** Engine.IO heartbeat pings answered so far: each is a write of the server's own. */
  pings = 0;

  constructor(url: string, token: string) {
    this.ws = new WebSocket(`${url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`, { perMessageDeflate: false });
    this.connected = new Promise((resolve, reject) => {
      this.ws.once("error", reject);
      this.ws.on("message", (raw) => {
        const text = raw.toString();
        const type = text[0];
        if (type === "0") this.ws.send(`40${JSON.stringify({ token })}`);
        else if (type === "2") {
          this.pings++;
          this.ws.send("3");
        }
        else if (type === "4") this.onPacket(text.slice(1), resolve, reject);
      });
    });
  }

  private onPacket(packet: string, resolve: () => void, reject: (err: Error) => void): void {
    const kind = packet[0];
    if (kind === "0") return resolve();
    if (kind === "4") return reject(new Error(`connect_error ${packet.slice(1)}`));
    let i = 1;
    while (i < packet.length && packet.charCodeAt(i) >= 48 && packet.charCodeAt(i) <= 57) i++;
    const id = i > 1 ? Number(packet.slice(1, i)) : undefined;
    const args = JSON.parse(packet.slice(i)) as unknown[];
    if (kind === "3" && id !== undefined) {
      const ack = this.acks.get(id);
      this.acks.delete(id);
      ack?.(args[0]);
    } else if (kind === "2") {
      this.handlers.get(args[0] as string)?.(args[1]);
    }
  }

  on(event: string, handler: (data: any) => void): void {
    this.handlers.set(event, handler);
  }

  /** Emits a request and resolves with its ack. */
  request<T = any>(event: string, payload: unknown): Promise<T> {
    const id = this.nextAckId++;
    return new Promise((resolve) => {
      this.acks.set(id, resolve as (data: unknown) => void);
      this.ws.send(`42${id}${JSON.stringify([event, payload])}`);
    });
  }

  /**
   * Round trip of a WebSocket ping frame. The server's `ws` answers pings as it
   * reads them, so this times how long the server's event loop took to get to
   * this socket, with no application code in the path.
   */
  ping(): Promise<number> {
    const sent = performance.now();
    return new Promise((resolve, reject) => {
      const closed = () => reject(new Error("socket closed before the pong"));
      this.ws.once("close", closed);
      this.ws.once("pong", () => {
        this.ws.off("close", closed);
        resolve(performance.now() - sent);
      });
      this.ws.ping();
    });
  }

  close(): void {
    this.ws.close();
  }

  /**
   * Closes with the WebSocket closing handshake and resolves once the socket
   * is closed, so the server has seen the departure (its cleanup may still be
   * going on). A server that does not answer within `timeoutMs` gets the
   * socket destroyed instead.
   */
  closeAndWait(timeoutMs = 5000): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.ws.terminate(), timeoutMs);
      this.ws.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.close();
    });
  }
}
