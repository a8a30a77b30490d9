import pg from "pg";
import type { Logger } from "pino";
import type { EventsService } from "../../core/events/events-service.js";
import { OUTBOX_TABLE, notifyEventSchema, notifyOutboxSchema, type NotifyEvent } from "./notify-payload.js";

export interface PgNotifyBridgeOptions {
  /** The app's own Postgres (`EVENTS_DATABASE_URL`). */
  url: string;
  /** LISTEN channel names (`EVENTS_CHANNELS`). */
  channels: string[];
  events: EventsService;
  logger: Logger;
  /** First reconnect delay; doubles up to 5 s. */
  retryMs?: number;
  /**
   * With several nodes (`REDIS_URL`), the deployment's name (`REDIS_PREFIX`):
   * only the node holding the advisory lock of this name (and of the channels)
   * LISTENs. Each publish reaches every node through the broker, so a second
   * listener would deliver every event twice. Without it, this node listens.
   */
  leaderKey?: string;
  /** How often a node that does not hold the lock tries to take it (default 2 s). */
  leaderRetryMs?: number;
}

const MAX_RETRY_MS = 5000;

/**
 * Turns `NOTIFY` on the app's database into published events, so an INSERT in
 * the app's table reaches the right user's devices. One dedicated connection
 * LISTENs (on one node of a deployment: see {@link PgNotifyBridgeOptions.leaderKey});
 * when it drops (Postgres restarted, connection killed) the bridge reconnects
 * with backoff and LISTENs again, and an app database that is down when the
 * server starts is retried the same way rather than stopping the start.
 * Notifications sent while no node listens are lost (NOTIFY is not queued for
 * absent listeners).
 */
export class PgNotifyBridge {
  private client: pg.Client | undefined;
  private closed = false;
  private retryMs: number;
  private leaderTimer: NodeJS.Timeout | undefined;
  /** Resolves each time a connection is listening (tests wait on it after a drop). */
  listening: Promise<void> = Promise.resolve();
  /** Whether this node's connection LISTENs now. */
  isListening = false;

  constructor(private readonly options: PgNotifyBridgeOptions) {
    this.retryMs = options.retryMs ?? 250;
    for (const name of options.channels) {
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) throw new Error(`EVENTS_CHANNELS: "${name}" is not a valid channel identifier`);
    }
  }

  /**
   * Connects and LISTENs (or waits for the lock, with several nodes). Resolves
   * after the first attempt whatever its outcome: an unreachable app database
   * is logged and retried with backoff, and the server serves meanwhile.
   */
  async start(): Promise<void> {
    await this.connect().catch((err: unknown) => {
      this.options.logger.warn({ err: (err as Error).message }, "events bridge cannot reach EVENTS_DATABASE_URL; retrying");
      this.scheduleReconnect();
    });
  }

  private connect(): Promise<void> {
    const attempt = (async () => {
      const client = new pg.Client({ connectionString: this.options.url });
      client.on("error", (err) => this.options.logger.warn({ err: err.message }, "events bridge connection error"));
      client.on("end", () => this.onDrop(client));
      client.on("notification", (msg) => void this.onNotification(client, msg.channel, msg.payload));
      try {
        await client.connect();
      } catch (err) {
        await client.end().catch(() => {});
        throw err;
      }
      this.client = client;
      try {
        await this.lead(client);
      } catch (err) {
        // Not listening on it: drop it without the reconnect its end would schedule; the caller retries.
        this.client = undefined;
        await client.end().catch(() => {});
        throw err;
      }
      this.retryMs = this.options.retryMs ?? 250;
    })();
    this.listening = attempt;
    return attempt;
  }

  /** LISTENs once this connection holds the deployment's lock; until then tries again every `leaderRetryMs`. */
  private async lead(client: pg.Client): Promise<void> {
    if (this.options.leaderKey !== undefined) {
      const key = `switchboard events bridge ${this.options.leaderKey} ${[...this.options.channels].sort().join(",")}`;
      // Session-level: released when this connection ends, so a stopped or vanished node frees it.
      const { rows } = await client.query<{ held: boolean }>("select pg_try_advisory_lock(hashtext($1)) as held", [key]);
      if (!rows[0]!.held) {
        this.leaderTimer = setTimeout(() => {
          if (this.closed || this.client !== client) return;
          this.lead(client).catch((err: unknown) => this.options.logger.warn({ err: (err as Error).message }, "events bridge lock attempt failed"));
        }, this.options.leaderRetryMs ?? 2000);
        this.leaderTimer.unref();
        return;
      }
    }
    for (const name of this.options.channels) await client.query(`listen "${name}"`);
    this.isListening = true;
    this.options.logger.info({ channels: this.options.channels }, "events bridge listening");
  }

  private onDrop(client: pg.Client): void {
    if (this.closed || this.client !== client) return;
    this.client = undefined;
    this.isListening = false;
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
      const event = await this.eventOf(client, JSON.parse(payload ?? ""));
      if (!event) return;
      const { tenant, ...rest } = event;
      await this.options.events.publish(tenant, rest);
    } catch (err) {
      this.options.logger.warn({ channel, err: (err as Error).message }, "events bridge: NOTIFY payload not published");
    }
  }

  /** The event a NOTIFY carries, or takes from the outbox; undefined (logged) when there is none to publish. */
  private async eventOf(client: pg.Client, payload: unknown): Promise<NotifyEvent | undefined> {
    const stored = notifyOutboxSchema.safeParse(payload);
    if (stored.success) {
      const { schema, id } = stored.data.outbox;
      // Taken by deleting it: a NOTIFY forged with the same id finds nothing once the event went out.
      const { rows } = await client.query<{ payload: unknown }>(`delete from "${schema}".${OUTBOX_TABLE} where id = $1 returning payload`, [id]);
      if (rows.length === 0) {
        this.options.logger.warn({ schema, id }, "events bridge: outbox event not found (already taken, or never stored)");
        return undefined;
      }
      payload = rows[0]!.payload;
    } else if (typeof payload === "object" && payload !== null && "ref" in payload) {
      this.options.logger.warn("events bridge: row references are no longer read (any role may NOTIFY one); regenerate the trigger with `switchboard sql trigger`");
      return undefined;
    }
    const parsed = notifyEventSchema.safeParse(payload);
    if (!parsed.success) {
      this.options.logger.warn({ issues: parsed.error.issues.slice(0, 3) }, "events bridge: malformed NOTIFY payload ignored");
      return undefined;
    }
    return parsed.data;
  }

  /** The LISTEN connection's backend pid (tests terminate it to simulate a restart). */
  async backendPid(): Promise<number | undefined> {
    const { rows } = (await this.client?.query<{ pid: number }>("select pg_backend_pid() as pid")) ?? { rows: [] };
    return rows[0]?.pid;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.leaderTimer);
    await this.client?.end().catch(() => {});
  }
}
