import type { ChosenStatus, CustomStatus } from "@switchboard/protocol";

/** The durable part of one user's presence. */
export interface PresenceRecord {
  /** What the user chose; `online` means "automatic". */
  status: ChosenStatus;
  custom: CustomStatus | null;
  /** ISO time; null until the user has been seen leaving once. */
  lastSeen: string | null;
}

/** Fields to change; an absent field keeps its value. */
export interface PresenceRecordPatch {
  status?: ChosenStatus;
  custom?: CustomStatus | null;
  lastSeen?: string;
}

/**
 * What presence keeps across restarts, per (tenant, user): the status the user
 * chose, their custom status, and when they were last seen.
 *
 * Contract: a resolved `update` is durable; `get` returns only users that have
 * a record (a user never seen has none) and never another tenant's; failures to
 * reach the database reject with `DependencyUnavailableError`.
 */
export interface PresenceRecords {
  get(tenantId: string, userIds: readonly string[]): Promise<Map<string, PresenceRecord>>;
  /** Creates the record when missing (status `online`, no custom status, no lastSeen) and applies the patch. */
  update(tenantId: string, userId: string, patch: PresenceRecordPatch): Promise<PresenceRecord>;
}
