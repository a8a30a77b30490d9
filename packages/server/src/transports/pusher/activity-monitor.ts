/**
 * Pusher's liveness rule for one connection: after `activityMs` without any
 * frame from the client the server sends `pusher:ping`; if nothing comes back
 * within `pongMs` the connection is closed (4201, clients reconnect at once).
 */
export class ActivityMonitor {
  private readonly idle: NodeJS.Timeout;
  private waiting?: NodeJS.Timeout;

  constructor(
    activityMs: number,
    private readonly pongMs: number,
    private readonly ping: () => void,
    private readonly expire: () => void,
  ) {
    this.idle = setTimeout(() => this.onIdle(), activityMs);
    this.idle.unref();
  }

  /** Any frame or WebSocket ping/pong from the client. */
  touch(): void {
    this.idle.refresh();
    if (this.waiting) clearTimeout(this.waiting);
    this.waiting = undefined;
  }

  stop(): void {
    clearTimeout(this.idle);
    if (this.waiting) clearTimeout(this.waiting);
  }

  private onIdle(): void {
    this.ping();
    this.waiting = setTimeout(this.expire, this.pongMs);
    this.waiting.unref();
  }
}
