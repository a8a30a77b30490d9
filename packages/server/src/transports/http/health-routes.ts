import type { FastifyInstance } from "fastify";
import type { Metrics } from "../../metrics.js";

export interface HealthSource {
  nodeId: string;
  connections(): number;
  activeUsers(): number;
  /** Named dependency checks; each resolves when the dependency answers. */
  readinessChecks(): Record<string, () => Promise<void>>;
  isStopping(): boolean;
}

const CHECK_TIMEOUT_MS = 2000;

/** `GET /healthz` (liveness), `GET /readyz` (dependencies reachable), `GET /metrics` (Prometheus). */
export function registerHealthRoutes(app: FastifyInstance, source: HealthSource, metrics: Metrics): void {
  const startedAt = Date.now();

  // Still 200 while stopping (the process is alive), but load balancers send no new clients to a draining node.
  app.get("/healthz", async () => ({
    status: source.isStopping() ? "stopping" : "ok",
    node: source.nodeId,
    connections: source.connections(),
    activeUsers: source.activeUsers(),
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
  }));

  app.get("/readyz", async (_request, reply) => {
    const checks: Record<string, string> = {};
    let ready = !source.isStopping();
    await Promise.all(
      Object.entries(source.readinessChecks()).map(async ([name, check]) => {
        try {
          await withTimeout(check(), CHECK_TIMEOUT_MS);
          checks[name] = "ok";
        } catch (err) {
          ready = false;
          checks[name] = `down: ${(err as Error).message}`;
        }
      }),
    );
    return reply.code(ready ? 200 : 503).send({ status: source.isStopping() ? "stopping" : ready ? "ready" : "not_ready", checks });
  });

  app.get("/metrics", async (_request, reply) => {
    reply.header("content-type", metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
