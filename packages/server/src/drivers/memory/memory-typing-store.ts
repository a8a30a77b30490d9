import type { TypingEntry, TypingStore } from "../../ports/typing-store.js";

/** Typing indicators of a single node. */
export class MemoryTypingStore implements TypingStore {
  private readonly running = new Map<string, { entry: TypingEntry; until: number }>();

  async refresh(tenantId: string, userId: string, conversationId: string, until: number, connectionId?: string): Promise<boolean> {
    const current = this.running.get(key(tenantId, userId, conversationId));
    if (!current) return false;
    current.until = until;
    current.entry.connectionId = connectionId;
    return true;
  }

  async start(entry: TypingEntry, until: number): Promise<boolean> {
    if (await this.refresh(entry.tenantId, entry.userId, entry.conversationId, until, entry.connectionId)) return false;
    this.running.set(key(entry.tenantId, entry.userId, entry.conversationId), { entry: { ...entry }, until });
    return true;
  }

  async stop(tenantId: string, userId: string, conversationId: string): Promise<TypingEntry | undefined> {
    const k = key(tenantId, userId, conversationId);
    const current = this.running.get(k);
    this.running.delete(k);
    return current?.entry;
  }

  async stopConnection(tenantId: string, connectionId: string): Promise<TypingEntry[]> {
    return this.take(({ entry }) => entry.tenantId === tenantId && entry.connectionId === connectionId);
  }

  async takeExpired(now: number): Promise<TypingEntry[]> {
    return this.take(({ until }) => until < now);
  }

  private take(matches: (running: { entry: TypingEntry; until: number }) => boolean): TypingEntry[] {
    const taken: TypingEntry[] = [];
    for (const [k, running] of this.running) {
      if (!matches(running)) continue;
      this.running.delete(k);
      taken.push(running.entry);
    }
    return taken;
  }
}

/** JSON keeps any ids apart. */
function key(tenantId: string, userId: string, conversationId: string): string {
  return JSON.stringify([tenantId, userId, conversationId]);
}
