import type { Socket } from "socket.io-client";
import { expect } from "vitest";
import { request } from "./server-harness.js";

type Ack<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string } };

/** Sends a request that must succeed and returns its data. */
export async function ok<T = any>(socket: Socket, event: string, payload: unknown): Promise<T> {
  const ack = await request<Ack<T>>(socket, event, payload);
  if (!ack.ok) throw new Error(`${event} failed: ${ack.error.code} ${ack.error.message}`);
  return ack.data;
}

/** Sends a request that must fail and returns its error code. */
export async function fails(socket: Socket, event: string, payload: unknown): Promise<string> {
  const ack = await request<Ack<unknown>>(socket, event, payload);
  expect(ack.ok, `${event} should fail`).toBe(false);
  return (ack as { error: { code: string } }).error.code;
}

export async function createGroup(socket: Socket, participantIds: string[], title = "Care team"): Promise<string> {
  const { conversation } = await ok(socket, "conversation:create", { type: "group", participantIds, title });
  return conversation.id as string;
}
