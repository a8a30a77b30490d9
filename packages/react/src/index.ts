/**
 * `@switchboard/react`: hooks over `@switchboard/client`. Wrap the app in
 * `SwitchboardProvider`, then use the hooks in any component below it.
 */
export { SwitchboardProvider, type SwitchboardProviderProps } from "./provider.js";
export { useSwitchboard } from "./context.js";
export { useConnectionStatus } from "./use-connection-status.js";
export { useConversation, type UseConversationResult } from "./use-conversation.js";
export { useConversations, type UseConversationsResult } from "./use-conversations.js";
export { usePresence } from "./use-presence.js";
export { useRecordViewers } from "./use-record-viewers.js";
export { useNotifications, type UseNotificationsResult } from "./use-notifications.js";
export { useChannelEvent } from "./use-channel-event.js";
export { useCall, type UseCallResult } from "./use-call.js";
