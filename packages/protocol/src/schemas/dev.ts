import { z } from "zod";
import { userIdSchema } from "../identifiers.js";

/** The tenant of the built-in demo users (`GET /dev/users`, `POST /dev/token`). */
export const DEMO_TENANT = "demo";

/** A demo user the development token route signs tokens for. */
export interface DemoUser {
  userId: string;
  name: string;
  roles: string[];
}

/** `GET /dev/users` answer. */
export interface DemoUsersResponse {
  tenantId: string;
  users: DemoUser[];
}

/** `POST /dev/token` body: which demo user to sign in as. */
export const devTokenRequestSchema = z.object({ userId: userIdSchema });
export type DevTokenRequest = z.infer<typeof devTokenRequestSchema>;

/** `POST /dev/token` answer. */
export interface DevTokenResponse {
  token: string;
  user: DemoUser;
  tenantId: string;
  expiresInSeconds: number;
}
