import type { Socket } from "socket.io-client";
import { expect } from "vitest";
import { request } from "./server-harness.js";

export type Ack = { ok: boolean; data?: any; error?: { code: string; message: string; details?: unknown } };
export type Presence = { userId: string; status: string; lastSeen: string | null; custom: unknown };

/** No grace and no idle: departures are announced at once and nobody turns away by themselves. */
export const IMMEDIATE = { PRESENCE_OFFLINE_GRACE_MS: "0", PRESENCE_IDLE_MS: "0" };

/** presence:get of one user. */
export async function getOne(socket: Socket, userId: string): Promise<Presence> {
  const ack = await request<Ack>(socket, "presence:get", { userIds: [userId] });
  expect(ack.ok).toBe(true);
  return ack.data.presence[0];
}

/** Resolves with the next presence:changed about `userId`. */
export function nextChange(socket: Socket, userId: string, ms = 3000): Promise<Presence> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off("presence:changed", onChange);
      reject(new Error(`no presence:changed for ${userId} within ${ms} ms`));
    }, ms);
    const onChange = (event: Presence) => {
      if (event.userId !== userId) return;
      clearTimeout(timer);
      socket.off("presence:changed", onChange);
      resolve(event);
    };
    socket.on("presence:changed", onChange);
  });
}
