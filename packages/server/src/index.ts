/**
 * `@switchboard/server`: run Switchboard inside a Node process (library mode)
 * or start it with the `switchboard` CLI.
 */
export { createServer, type ServerOptions, type SwitchboardServer } from "./server.js";
export { loadConfig, helpText, ConfigError, type Config, type ApiKey } from "./config/config.js";
export { createTokenVerifier, TokenError, type TokenVerifier, type TokenVerifierOptions } from "./auth/token-verifier.js";
export { signUserToken, type TokenClaims } from "./auth/dev-credentials.js";
export type { Caller } from "./auth/caller.js";
export type { SwitchboardHooks, AuthorizeChannelPayload } from "./core/hooks.js";
export { AppError } from "./core/errors.js";
export { verifyWebhook, signWebhook } from "./core/webhooks/webhook-signature.js";
export type { Broker, ChannelMessage } from "./ports/broker.js";
export type { ChannelMembers, ChannelMember } from "./ports/channel-members.js";
export type { SqlDatabase, SqlExecutor } from "./ports/sql-database.js";
export type { PresenceService, PresenceServiceDeps } from "./core/presence/presence-service.js";
export type { PresenceStore, PresenceConnection, PresenceViewer, LiveUserState, ExpiredEntries } from "./ports/presence-store.js";
export type { PresenceRecords, PresenceRecord, PresenceRecordPatch } from "./ports/presence-records.js";
