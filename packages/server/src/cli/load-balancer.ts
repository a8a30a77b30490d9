import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

/** One node behind the balancer. */
export interface Backend {
  host: string;
  port: number;
}

export interface LoadBalancerOptions {
  /** Port to listen on (0 = any free port). */
  port: number;
  host: string;
  backends: readonly Backend[];
  /** How often every node's `/healthz` is asked (default 500 ms). */
  healthIntervalMs?: number;
  /** Told when a node turns healthy or unhealthy. */
  onHealthChange?: (backend: Backend, healthy: boolean) => void;
}

const HEALTH_TIMEOUT_MS = 1000;

/**
 * A tiny round-robin TCP load balancer for trying several nodes on one machine
 * (`switchboard start --cluster N`) and for the multi-process tests. It is
 * sticky-free on purpose: Socket.IO clients on the WebSocket transport hold one
 * TCP connection for their whole session, so any node may take them. Nodes
 * whose `/healthz` fails or says `stopping` are skipped; a node that refuses a
 * connection is skipped at once and the next one tried. Not for production:
 * put nginx, HAProxy or a cloud balancer there (see the README).
 */
export class LoadBalancer {
  private readonly healthy: boolean[];
  private next = 0;
  private readonly sockets = new Set<Socket>();
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly server: Server,
    private readonly options: LoadBalancerOptions,
  ) {
    this.healthy = options.backends.map(() => false);
    this.timer = setInterval(() => void this.checkAll(), options.healthIntervalMs ?? 500);
    this.timer.unref();
  }

  /** Checks every node once, then listens. */
  static async start(options: LoadBalancerOptions): Promise<LoadBalancer> {
    const server = createServer();
    const balancer = new LoadBalancer(server, options);
    server.on("connection", (client) => balancer.onConnection(client));
    await balancer.checkAll();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.host, () => resolve());
    });
    return balancer;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Nodes currently taking new connections. */
  get healthyBackends(): Backend[] {
    return this.options.backends.filter((_, i) => this.healthy[i]);
  }

  private async checkAll(): Promise<void> {
    await Promise.all(this.options.backends.map((backend, i) => this.check(backend, i)));
  }

  private async check(backend: Backend, index: number): Promise<void> {
    let up = false;
    try {
      const res = await fetch(`http://${backend.host}:${backend.port}/healthz`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
      const body = (await res.json().catch(() => ({}))) as { status?: string };
      // A draining node still answers liveness but must not get new clients.
      up = res.ok && body.status !== "stopping";
    } catch {
      up = false;
    }
    this.mark(index, up);
  }

  private mark(index: number, up: boolean): void {
    if (this.healthy[index] === up) return;
    this.healthy[index] = up;
    this.options.onHealthChange?.(this.options.backends[index]!, up);
  }

  /** Round robin over healthy nodes, starting after the last one used; every node once at most. */
  private candidates(): number[] {
    const n = this.options.backends.length;
    const order: number[] = [];
    for (let k = 0; k < n; k++) {
      const i = (this.next + k) % n;
      if (this.healthy[i]) order.push(i);
    }
    this.next = (this.next + 1) % n;
    return order;
  }

  private onConnection(client: Socket): void {
    this.sockets.add(client);
    client.once("close", () => this.sockets.delete(client));
    client.on("error", () => client.destroy());
    // Nothing is read from the client until a node took the connection, so a retry loses no bytes.
    client.pause();
    this.connectTo(client, this.candidates());
  }

  private connectTo(client: Socket, candidates: number[]): void {
    const index = candidates.shift();
    if (index === undefined || client.destroyed) return void client.destroy();
    const backend = this.options.backends[index]!;
    const upstream = connect(backend.port, backend.host);
    this.sockets.add(upstream);
    upstream.once("close", () => this.sockets.delete(upstream));
    const onConnectError = () => {
      this.mark(index, false);
      this.connectTo(client, candidates);
    };
    upstream.once("error", onConnectError);
    upstream.once("connect", () => {
      upstream.off("error", onConnectError);
      // The client gave up while the node was being reached.
      if (client.destroyed) return void upstream.destroy();
      upstream.on("error", () => upstream.destroy());
      // Either side closing closes the other: a killed node's clients see their transport close and reconnect.
      upstream.once("close", () => client.destroy());
      client.once("close", () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }

  /** Stops listening and cuts every proxied connection. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}
