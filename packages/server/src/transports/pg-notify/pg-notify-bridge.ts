import pg from "pg";
import type { Logger } from "pino";
import type { EventsService } from "../../core/events/events-service.js";
import { notifyPayloadSchema, quoteTable } from "./notify-payload.js";

export interface PgNotifyBridgeOptions {
  /** The app's own Postgres (`EVENTS_DATABASE_URL`). */
  url: string;
  /** LISTEN channel names (`EVENTS_CHANNELS`). */
  channels: string[];
  events: EventsService;
  logger: Logger;
  /** First reconnect delay; doubles up to 5 s. */
  retryMs?: number;
}

const MAX_RETRY_MS = 5000;

/**
 * Turns `NOTIFY` on the app's database into published events, so an INSERT in
 * the app's table reaches the right user's devices. One dedicated connection
 * LISTENs; when it drops (Postgres restarted, connection killed) the bridge
 * reconnects with backoff and LISTENs again. Notifications sent while it was
 * disconnected are lost (NOTIFY is not queued for absent listeners).
 */
export class PgNotifyBridge {
  private client: pg.Client | undefined;
  private closed = false;
  private retryMs: number;
  private connectedOnce!: Promise<void>;
  /** Resolves each time a connection is listening (tests wait on it after a drop). */
  listening: Promise<void> = Promise.resolve();

  constructor(private readonly options: PgNotifyBridgeOptions) {
    this.retryMs = options.retryMs ?? 250;
    for (const name of options.channels) {
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) throw new Error(`EVENTS_CHANNELS: "${name}" is not a valid channel identifier`);
    }
  }

  /** Connects and LISTENs; resolves once listening (reconnects on its own afterwards). */
  start(): Promise<void> {
    this.connectedOnce = this.connect();
    return this.connectedOnce;
  }

  private connect(): Promise<void> {
    const attempt = (async () => {
      const client = new pg.Client({ connectionString: this.options.url });
      client.on("error", (err) => this.options.logger.warn({ err: err.message }, "events bridge connection error"));
      client.on("end", () => this.onDrop(client));
      client.on("notification", (msg) => void this.onNotification(client, msg.channel, msg.payload));
      await client.connect();
      for (const name of this.options.channels) await client.query(`listen "${name}"`);
      this.client = client;
      this.retryMs = this.options.retryMs ?? 250;
      this.options.logger.info({ channels: this.options.channels }, "events bridge listening");
    })();
    this.listening = attempt;
    return attempt;
  }

  private onDrop(client: pg.Client): void {
    if (this.closed || this.client !== client) return;
    this.client = undefined;
    this.options.logger.warn({ retryMs: this.retryMs }, "events bridge disconnected; reconnecting");
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    const timer = setTimeout(() => {
      if (this.closed) return;
      this.connect().catch((err) => {
        this.options.logger.warn({ err: (err as Error).message }, "events bridge reconnect failed");
        this.scheduleReconnect();
      });
    }, delay);
    timer.unref();
  }

  private async onNotification(client: pg.Client, channel: string, payload: string | undefined): Promise<void> {
    try {
      const parsed = notifyPayloadSchema.safeParse(JSON.parse(payload ?? ""));
      if (!parsed.success) {
        this.options.logger.warn({ channel, issues: parsed.error.issues.slice(0, 3) }, "events bridge: malformed NOTIFY payload ignored");
        return;
      }
      const { tenant, ref, ...event } = parsed.data;
      let data = event.data;
      if (ref) {
        const { rows } = await client.query<{ row: unknown }>(`select row_to_json(t) as row from ${quoteTable(ref.table)} t where id = $1`, [ref.id]);
        if (rows.length === 0) {
          this.options.logger.warn({ table: ref.table }, "events bridge: referenced row not found");
          return;
        }
        data = rows[0]!.row;
      }
      await this.options.events.publish(tenant, { ...event, data });
    } catch (err) {
      this.options.logger.warn({ channel, err: (err as Error).message }, "events bridge: NOTIFY payload not published");
    }
  }

  /** The LISTEN connection's backend pid (tests terminate it to simulate a restart). */
  async backendPid(): Promise<number | undefined> {
    const { rows } = (await this.client?.query<{ pid: number }>("select pg_backend_pid() as pid")) ?? { rows: [] };
    return rows[0]?.pid;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.client?.end().catch(() => {});
  }
}
