import { randomBytes } from "node:crypto";
import pg from "pg";
import { io, type Socket } from "socket.io-client";
import { signUserToken, type TokenClaims } from "../../src/auth/dev-credentials.js";
import { LoadBalancer } from "../../src/cli/load-balancer.js";
import { freePort, startNode, waitFor, type NodeProcess } from "./node-processes.js";
import { TEST_SECRET } from "./server-harness.js";

export const CLUSTER_API_KEY = "cluster-test-key-0123456789abcdef";

/** Several node processes of one deployment behind the round-robin balancer. */
export interface Cluster {
  nodes: NodeProcess[];
  balancer: LoadBalancer;
  /** The balancer's URL: what clients connect to. */
  url: string;
  /**
   * A Socket.IO client through the balancer (WebSocket only, reconnecting by
   * itself), resolved once the server said `connected`.
   */
  connect(claims: TokenClaims): Promise<Socket>;
  /** Open Socket.IO connections per node, from each node's /healthz (0 for a node that is down). */
  connectionsPerNode(): Promise<number[]>;
  /** Starts node `index` again (same port, name and settings) after it was killed or stopped. */
  restart(index: number): Promise<void>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  nodes: number;
  redisUrl: string;
  /** Postgres the nodes use (maybe through a test proxy). */
  databaseUrl: string;
  /** Postgres for creating and dropping the fresh schema (the real one). */
  adminDatabaseUrl: string;
  env?: Record<string, string>;
}

/** Starts `nodes` processes sharing a fresh schema and Redis prefix, and a balancer in front of them. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const schema = `c_${randomBytes(6).toString("hex")}`;
  const env = {
    JWT_SECRET: TEST_SECRET,
    DATABASE_URL: options.databaseUrl,
    DATABASE_SCHEMA: schema,
    DATABASE_POOL_SIZE: "4",
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: `c${randomBytes(5).toString("hex")}`,
    API_KEYS: `acme:${CLUSTER_API_KEY}`,
    RATE_LIMITS: "message=100000/1,read=100000/1,room=100000/1,typing=100000/1,call=100000/1,signal=100000/1,connect=100000/1",
    SHUTDOWN_RECONNECT_MS: "200",
    ...options.env,
  };
  const sockets: Socket[] = [];
  const nodes: NodeProcess[] = [];
  let balancer: LoadBalancer | undefined;
  const close = async () => {
    for (const socket of sockets) socket.disconnect();
    await balancer?.close();
    await Promise.all(nodes.map((node) => node.stop()));
    const admin = new pg.Client({ connectionString: options.adminDatabaseUrl });
    await admin.connect();
    await admin.query(`drop schema if exists "${schema}" cascade`);
    await admin.end();
  };
  // Fixed ports, so a restarted node is found by the balancer where it was.
  const ports = await Promise.all(Array.from({ length: options.nodes }, () => freePort()));
  const nodeEnv = (i: number) => ({ ...env, NODE_ID: `node-${i + 1}`, PORT: String(ports[i]) });
  try {
    // Started together: the nodes race on creating the schema, as real ones would.
    nodes.push(...(await Promise.all(ports.map((_, i) => startNode(nodeEnv(i))))));
    balancer = await LoadBalancer.start({ port: 0, host: "127.0.0.1", backends: nodes.map((n) => ({ host: "127.0.0.1", port: n.port })), healthIntervalMs: 200 });
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
  const url = `http://127.0.0.1:${balancer.port}`;
  return {
    nodes,
    balancer,
    url,
    close,
    async connect(claims) {
      const token = await signUserToken(TEST_SECRET, claims);
      const socket = io(url, {
        auth: { token },
        transports: ["websocket"],
        forceNew: true,
        reconnectionDelay: 100,
        reconnectionDelayMax: 500,
        randomizationFactor: 0.2,
      });
      sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no connected event within 5 s")), 5000);
        socket.once("connected", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      return socket;
    },
    async restart(index) {
      if (nodes[index]!.alive) throw new Error(`node ${index + 1} is still running`);
      nodes[index] = await startNode(nodeEnv(index));
      await waitFor(() => balancer!.healthyBackends.length === nodes.length, 5000, "the balancer did not see the restarted node");
    },
    async connectionsPerNode() {
      return Promise.all(
        nodes.map(async (node) => {
          if (!node.alive) return 0;
          const res = await fetch(`${node.url}/healthz`).catch(() => undefined);
          return res?.ok ? ((await res.json()) as { connections: number }).connections : 0;
        }),
      );
    },
  };
}

/**
 * Connects users one after another and finds each one's node from the
 * per-node connection counts (round robin spreads them, starting wherever the
 * balancer's turn is). Returns the sockets and the node index of each.
 */
export async function connectTracked(cluster: Cluster, users: string[]): Promise<{ sockets: Socket[]; nodeOf: number[] }> {
  const sockets: Socket[] = [];
  const nodeOf: number[] = [];
  let before = await settledCounts(cluster);
  for (const sub of users) {
    sockets.push(await cluster.connect({ sub, tenant: "acme", name: sub }));
    let after = before;
    await waitFor(
      async () => {
        after = await cluster.connectionsPerNode();
        return after.reduce((a, b) => a + b, 0) === before.reduce((a, b) => a + b, 0) + 1;
      },
      5000,
      () => `${sub}'s connection is not counted by any node: ${JSON.stringify(before)} -> ${JSON.stringify(after)}`,
    );
    nodeOf.push(after.findIndex((n, i) => n > before[i]!));
    before = after;
  }
  return { sockets, nodeOf };
}

/** Per-node counts once earlier clients have finished leaving (two equal reads 150 ms apart). */
async function settledCounts(cluster: Cluster): Promise<number[]> {
  let last = await cluster.connectionsPerNode();
  for (let i = 0; i < 40; i++) {
    await new Promise((resolve) => setTimeout(resolve, 150));
    const now = await cluster.connectionsPerNode();
    if (now.every((n, k) => n === last[k])) return now;
    last = now;
  }
  throw new Error(`connection counts never settled: ${JSON.stringify(last)}`);
}
