import type { ChannelOccupancy, OccupancyAdded, OccupancyRemoved } from "../../ports/channel-occupancy.js";

/** Subscription counts for a single node. */
export class MemoryChannelOccupancy implements ChannelOccupancy {
  /** tenant -> name -> connection ids */
  private readonly tenants = new Map<string, Map<string, Set<string>>>();

  async add(tenantId: string, name: string, connectionId: string): Promise<OccupancyAdded> {
    let names = this.tenants.get(tenantId);
    if (!names) this.tenants.set(tenantId, (names = new Map()));
    let connections = names.get(name);
    if (!connections) names.set(name, (connections = new Set()));
    const occupied = connections.size === 0;
    connections.add(connectionId);
    return { occupied };
  }

  async remove(tenantId: string, name: string, connectionId: string): Promise<OccupancyRemoved> {
    const names = this.tenants.get(tenantId);
    const connections = names?.get(name);
    if (!names || !connections?.delete(connectionId)) return { vacated: false };
    if (connections.size > 0) return { vacated: false };
    names.delete(name);
    if (names.size === 0) this.tenants.delete(tenantId);
    return { vacated: true };
  }

  async removeConnection(tenantId: string, connectionId: string): Promise<string[]> {
    const vacated: string[] = [];
    for (const name of [...(this.tenants.get(tenantId)?.keys() ?? [])]) {
      if ((await this.remove(tenantId, name, connectionId)).vacated) vacated.push(name);
    }
    return vacated;
  }

  async count(tenantId: string, name: string): Promise<number> {
    return this.tenants.get(tenantId)?.get(name)?.size ?? 0;
  }

  async list(tenantId: string, prefix = ""): Promise<Map<string, number>> {
    const result = new Map<string, number>();
    for (const [name, connections] of this.tenants.get(tenantId) ?? []) {
      if (name.startsWith(prefix)) result.set(name, connections.size);
    }
    return result;
  }

  /** Entries of one process die with it: nothing to renew. */
  async renew(): Promise<void> {}

  /** Nothing outlives its node here. */
  async takeExpired(): Promise<{ tenantId: string; name: string }[]> {
    return [];
  }
}
