/** One live connection of a user, as presence sees it. */
export interface PresenceConnection {
  connectionId: string;
  userId: string;
  /** The node holding the connection; its leases keep the entry alive. */
  nodeId: string;
  /** ISO time the connection was registered. */
  connectedAt: string;
  /** True once the connection has gone without client activity for the idle time. */
  idle: boolean;
}

/** One connection viewing a resource (a record such as `patient:42`). */
export interface PresenceViewer {
  connectionId: string;
  userId: string;
  name: string;
  nodeId: string;
  /** ISO time this connection started viewing. */
  since: string;
}

/** A user's live state across every node. */
export interface LiveUserState {
  connections: PresenceConnection[];
  /** Set and cleared by the call service. */
  inCall: boolean;
}

/** Entries whose lease ran out, removed by {@link PresenceStore.takeExpired}. */
export interface ExpiredEntries {
  connections: { tenantId: string; connection: PresenceConnection; lastRenewedAt: string }[];
  viewers: { tenantId: string; resource: string; viewer: PresenceViewer }[];
}

/**
 * The live, non-durable part of presence: which connections each user has, which
 * of them are idle, who is in a call, and which connections view which resource.
 * (What must survive a restart, such as `lastSeen` and the chosen status, lives in
 * {@link PresenceRecords}.) Everything is scoped by tenant: no method ever reads
 * or returns another tenant's entries.
 *
 * Contract:
 * - Entries are per connection, so several nodes can hold entries of the same
 *   user; readers aggregate. Adds and removes are idempotent per connection id.
 * - Every connection and viewer entry carries the `nodeId` of its node and a lease.
 *   A node renews the leases of all its entries with `renew` well within the lease;
 *   an entry whose lease ran out belongs to a node that stopped (crashed) and is
 *   handed out by `takeExpired` exactly once (to one caller on one node), removed,
 *   so that caller announces the departure. With the lease the service uses (30 s)
 *   and its sweep, a crashed node's users turn offline within 60 s.
 * - A driver shared between nodes (Redis) must make each method atomic on its
 *   own; callers serialize read-modify-write sequences per user themselves.
 * - All methods are async and may reject with `DependencyUnavailableError`.
 */
export interface PresenceStore {
  addConnection(tenantId: string, connection: PresenceConnection, leaseMs: number): Promise<void>;
  /**
   * Resolves true when the entry existed (and was removed). With `nodeId`, only
   * the entry that node added in this process is removed: a Socket.IO session
   * recovered on another node keeps its connection id, and the new node's
   * entry must outlive the old node's late removal of its own.
   */
  removeConnection(tenantId: string, userId: string, connectionId: string, nodeId?: string): Promise<boolean>;
  /** Marks one connection idle or active again; resolves false when there is no such entry. */
  setIdle(tenantId: string, userId: string, connectionId: string, idle: boolean): Promise<boolean>;
  /** Live state of each named user that has connections or is in a call; others are absent from the map. */
  users(tenantId: string, userIds: readonly string[]): Promise<Map<string, LiveUserState>>;
  /** Not leased: the call service clears it when the call ends. */
  setInCall(tenantId: string, userId: string, inCall: boolean): Promise<void>;

  addViewer(tenantId: string, resource: string, viewer: PresenceViewer, leaseMs: number): Promise<void>;
  /** Resolves with the removed entry, or undefined when the connection was not viewing. */
  removeViewer(tenantId: string, resource: string, connectionId: string): Promise<PresenceViewer | undefined>;
  /** Removes a connection from every resource it views; resolves with what was removed. */
  removeViewerEverywhere(tenantId: string, connectionId: string): Promise<{ resource: string; viewer: PresenceViewer }[]>;
  /** Every connection entry viewing the resource, oldest first. */
  viewers(tenantId: string, resource: string): Promise<PresenceViewer[]>;

  /** Extends the lease of every entry `nodeId` holds to `leaseMs` from now. */
  renew(nodeId: string, leaseMs: number): Promise<void>;
  /** Removes and returns every entry whose lease ended before `now` (ms since the epoch). */
  takeExpired(now: number): Promise<ExpiredEntries>;
}
