export * from "./errors.js";
export * from "./identifiers.js";
export * from "./events.js";
export * from "./schemas/rooms.js";
export * from "./schemas/chat.js";
export * from "./schemas/calls.js";
export * from "./schemas/events.js";
export * from "./schemas/notifications.js";
