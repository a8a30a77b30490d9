import { EVENT_DATA_MAX_BYTES, publishSchema } from "@switchboard/protocol";
import type { Broker } from "../../ports/broker.js";
import { AppError, issueDetails } from "../errors.js";

export interface PublishResult {
  channels: string[];
  event: string;
}

/**
 * Domain events from the app's backend (`appointment:created` to
 * `tenant:acme`): validated, size-checked, and handed to the broker, which
 * delivers them verbatim on every protocol. Callers (HTTP API, server SDK,
 * Postgres bridge) have already established the tenant.
 */
export class EventsService {
  constructor(private readonly broker: Broker) {}

  /** @throws AppError `bad_request` (names, channels), `payload_too_large` (data over 64 KiB). */
  async publish(tenantId: string, input: unknown): Promise<PublishResult> {
    const parsed = publishSchema.safeParse(input);
    if (!parsed.success) {
      const details = issueDetails(parsed.error);
      throw new AppError("bad_request", "invalid event", details);
    }
    const { channel, channels, event, data } = parsed.data;
    const size = Buffer.byteLength(JSON.stringify(data ?? null));
    if (size > EVENT_DATA_MAX_BYTES) throw new AppError("payload_too_large", `event data is ${size} bytes; the limit is ${EVENT_DATA_MAX_BYTES}`);
    const targets = [...new Set(channels ?? [channel!])];
    await this.broker.publish({ tenantId, channels: targets, event, data: data ?? null });
    return { channels: targets, event };
  }
}
