export * from "./errors.js";
export * from "./identifiers.js";
export * from "./events.js";
export * from "./schemas/rooms.js";
export * from "./schemas/presence.js";
