import type { Redis } from "ioredis";

/**
 * Marks the promises of these commands as handled: while Redis is away (or the
 * client is closing) they reject, and an unhandled rejection stops the
 * process. What they carried is lost, as it would be with Redis down anyway.
 */
export function handled(client: Redis, methods: readonly ("set" | "publish" | "subscribe")[]): void {
  for (const method of methods) {
    const original = (client[method] as (...args: unknown[]) => Promise<unknown>).bind(client);
    (client as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const result = original(...args);
      result.catch(() => {});
      return result;
    };
  }
}
