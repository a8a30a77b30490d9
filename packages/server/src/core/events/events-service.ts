import { EVENT_DATA_MAX_BYTES, publishSchema } from "@switchboard/protocol";
import type { Broker } from "../../ports/broker.js";
import { AppError, issueDetails } from "../errors.js";

export interface PublishResult {
  channels: string[];
  event: string;
}

/** Deepest nesting of arrays and objects accepted in event data. */
export const EVENT_DATA_MAX_DEPTH = 64;

/** Whether `value` nests arrays/objects more than `max` levels deep, found without recursion. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (item === null || typeof item !== "object") continue;
    if (depth >= max) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Refuses data no transport should carry: nested deeper than
 * {@link EVENT_DATA_MAX_DEPTH} (it would overflow the stack in JSON.stringify,
 * a 500, and again in every transport's encoder) or over
 * `EVENT_DATA_MAX_BYTES` serialized. `what` names it in the message.
 * @throws AppError `bad_request`, `payload_too_large`
 */
export function refuseUnfitData(data: unknown, what: string): void {
  if (nestedDeeperThan(data, EVENT_DATA_MAX_DEPTH)) throw new AppError("bad_request", `${what} is nested deeper than ${EVENT_DATA_MAX_DEPTH} levels`, [{ path: "data", message: "too deeply nested" }]);
  const size = Buffer.byteLength(JSON.stringify(data ?? null));
  if (size > EVENT_DATA_MAX_BYTES) throw new AppError("payload_too_large", `${what} is ${size} bytes; the limit is ${EVENT_DATA_MAX_BYTES}`);
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
    refuseUnfitData(data, "event data");
    const targets = [...new Set(channels ?? [channel!])];
    await this.broker.publish({ tenantId, channels: targets, event, data: data ?? null });
    return { channels: targets, event };
  }
}
