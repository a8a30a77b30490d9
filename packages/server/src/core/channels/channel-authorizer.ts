import { splitChannel } from "@switchboard/protocol";
import type { Caller } from "../../auth/caller.js";
import { AppError } from "../errors.js";
import type { SwitchboardHooks } from "../hooks.js";

/** Decides one kind of channel; `id` is the part after `kind:`. */
export type ChannelRule = (caller: Caller, id: string) => Promise<boolean> | boolean;

/** Options of {@link ChannelAuthorizer.registerRule}. */
export interface ChannelRuleOptions {
  /**
   * Membership is nobody else's business (who watches whose presence, who views
   * which record): the channel service neither tracks, announces nor lists it.
   */
  privateMembership?: boolean;
  /**
   * The server subscribes and unsubscribes connections itself (`viewers:`
   * follows `presence:setActivity`): a client can neither join nor leave it,
   * since a leave would stop its events while its entry stays listed.
   */
  managed?: boolean;
}

/** Kinds whose rules belong to Switchboard; hooks are never asked about them (`pusher`: Pusher public channels, ruled by the Pusher transport). */
const RESERVED_KINDS = new Set(["user", "tenant", "role", "conversation", "call", "topic", "presence", "viewers", "pusher"]);

const AUTOMATIC_KINDS = new Set(["user", "tenant", "role"]);

/**
 * Who may join which channel (PROTOCOL.md section 3). Every name is already
 * scoped to the caller's tenant by the transports, so these rules only decide
 * within the tenant. Services that own a kind (chat owns `conversation:`, calls
 * own `call:`) register its rule; a reserved kind without a rule is denied.
 */
export class ChannelAuthorizer {
  private readonly rules = new Map<string, ChannelRule>([
    ["user", (caller, id) => caller.userId === id],
    ["tenant", (caller, id) => caller.tenantId === id],
    ["role", (caller, id) => caller.roles.includes(id)],
    ["topic", () => true],
  ]);

  private readonly privateKinds = new Set<string>();
  private readonly managedKinds = new Set<string>();

  constructor(private readonly hooks: readonly SwitchboardHooks[]) {}

  /** Lets the service owning a reserved kind decide it. */
  registerRule(kind: string, rule: ChannelRule, options: ChannelRuleOptions = {}): void {
    if (!RESERVED_KINDS.has(kind)) throw new Error(`${kind} is not a reserved channel kind`);
    this.rules.set(kind, rule);
    if (options.privateMembership) this.privateKinds.add(kind);
    if (options.managed) this.managedKinds.add(kind);
  }

  /** True for channels the server alone subscribes connections to (see {@link ChannelRuleOptions.managed}). */
  isManaged(channel: string): boolean {
    return this.managedKinds.has(splitChannel(channel).kind);
  }

  /** True for channels whose membership is neither announced nor listed. */
  hasPrivateMembership(channel: string): boolean {
    return this.privateKinds.has(splitChannel(channel).kind);
  }

  /** @throws AppError `forbidden` when denied, `unavailable` when a webhook hook cannot answer. */
  async authorize(caller: Caller, channel: string): Promise<void> {
    if (!(await this.isAllowed(caller, channel))) {
      throw new AppError("forbidden", `not allowed to join ${channel}`);
    }
  }

  async isAllowed(caller: Caller, channel: string): Promise<boolean> {
    const { kind, id } = splitChannel(channel);
    if (RESERVED_KINDS.has(kind)) {
      const rule = this.rules.get(kind);
      return rule ? await rule(caller, id) : false;
    }
    for (const hook of this.hooks) {
      if (!hook.onAuthorizeChannel) continue;
      let decision: boolean | undefined;
      try {
        decision = await hook.onAuthorizeChannel({ caller, channel, kind, id });
      } catch (err) {
        if (err instanceof AppError) throw err;
        return false;
      }
      if (typeof decision === "boolean") return decision;
    }
    return false;
  }

  /** Whether a channel is of a kind connections join only automatically (`user:`, `tenant:`, `role:`: their rules admit nobody else). */
  static isAutomaticChannel(channel: string): boolean {
    return AUTOMATIC_KINDS.has(splitChannel(channel).kind);
  }

  /** Channels every connection of this caller joins automatically. */
  static automaticChannels(caller: Caller): string[] {
    return [`user:${caller.userId}`, `tenant:${caller.tenantId}`, ...caller.roles.map((role) => `role:${role}`)];
  }
}
