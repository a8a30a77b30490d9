import { WebSocket } from "ws";
import { onCleanup } from "./server-harness.js";

/** A plain-WebSocket test client: JSON frames in, a queue of frames out. */
export class WsTestClient {
  readonly frames: any[] = [];
  private waiters: { match: (f: any) => boolean; resolve: (f: any) => void }[] = [];

  constructor(readonly socket: WebSocket) {
    socket.on("message", (raw) => {
      const frame = JSON.parse(raw.toString());
      this.frames.push(frame);
      const waiter = this.waiters.find((w) => w.match(frame));
      if (waiter) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(frame);
      }
    });
  }

  static async open(url: string, token: string): Promise<WsTestClient> {
    const socket = new WebSocket(`${url.replace(/^http/, "ws")}/realtime/ws?token=${encodeURIComponent(token)}`);
    onCleanup(async () => socket.terminate());
    const client = new WsTestClient(socket);
    const connected = client.next((f) => f.type === "connected");
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    await connected;
    return client;
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The next frame (already received or still to come) matching `match`. */
  next(match: (frame: any) => boolean, ms = 3000): Promise<any> {
    const seen = this.frames.find(match);
    if (seen) {
      this.frames.splice(this.frames.indexOf(seen), 1);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching frame within ${ms} ms`)), ms);
      this.waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          this.frames.splice(this.frames.indexOf(f), 1);
          resolve(f);
        },
      });
    });
  }
}
