import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * The server's Prometheus metrics, on a registry of its own so two servers in
 * one process never share counters.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly connections = new Gauge({
    name: "switchboard_connections",
    help: "Open client connections on this node, by protocol",
    labelNames: ["protocol"] as const,
    registers: [this.registry],
  });

  readonly eventsIn = new Counter({
    name: "switchboard_events_in_total",
    help: "Requests received from clients, by event name (unknown names counted as 'unknown')",
    labelNames: ["event"] as const,
    registers: [this.registry],
  });

  readonly eventsOut = new Counter({
    name: "switchboard_events_out_total",
    help: "Events delivered to client connections, by event name (app-defined names counted as 'app')",
    labelNames: ["event"] as const,
    registers: [this.registry],
  });

  readonly ackErrors = new Counter({
    name: "switchboard_ack_errors_total",
    help: "Requests answered with an error, by code",
    labelNames: ["code"] as const,
    registers: [this.registry],
  });

  readonly requestDuration = new Histogram({
    name: "switchboard_request_duration_seconds",
    help: "Time to answer a client request, by event name",
    labelNames: ["event"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: "switchboard_http_request_duration_seconds",
    help: "HTTP request latency, by method, route and status",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor(nodeId: string) {
    this.registry.setDefaultLabels({ node: nodeId });
    // The event-loop lag monitor samples every 100 ms, not prom-client's default 10 ms: its timer
    // woke an idle server 100 times a second (533 context switches in 5 s against 104, perf stat),
    // and at 100 publishes/s it was a quarter of the wake-ups. Each sample still measures its delay exactly.
    collectDefaultMetrics({ register: this.registry, prefix: "switchboard_", eventLoopMonitoringPrecision: 100 });
    // Show the series from the start, not only after the first connection.
    this.connections.set({ protocol: "socketio" }, 0);
  }
}
