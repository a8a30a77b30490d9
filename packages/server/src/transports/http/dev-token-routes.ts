import type { FastifyInstance } from "fastify";
import { DEMO_TENANT, devTokenRequestSchema, type DemoUsersResponse, type DevTokenResponse } from "@switchboard/protocol";
import { DEMO_USERS } from "../../auth/demo-users.js";
import type { TokenClaims } from "../../auth/dev-credentials.js";
import { AppError } from "../../core/errors.js";
import { parseInput } from "./parse.js";

const TOKEN_TTL_SECONDS = 8 * 60 * 60;

/**
 * `GET /dev/users` and `POST /dev/token`: sign-in for the demo page. Registered
 * only when the server runs on its generated development secret (no JWT_SECRET,
 * no JWKS): anyone who can reach the server can then sign in as a demo user,
 * which is harmless for a throwaway development secret and never true in a
 * deployment that configured its own token issuer.
 */
export function registerDevTokenRoutes(app: FastifyInstance, sign: (claims: TokenClaims, expiresIn: string) => Promise<string>): void {
  app.get("/dev/users", async (): Promise<DemoUsersResponse> => ({ tenantId: DEMO_TENANT, users: [...DEMO_USERS] }));

  app.post("/dev/token", async (request): Promise<DevTokenResponse> => {
    const { userId } = parseInput(devTokenRequestSchema, request.body);
    const user = DEMO_USERS.find((u) => u.userId === userId);
    if (!user) throw new AppError("not_found", `no demo user ${userId}`);
    const token = await sign({ sub: user.userId, tenant: DEMO_TENANT, name: user.name, roles: user.roles }, `${TOKEN_TTL_SECONDS}s`);
    return { token, user, tenantId: DEMO_TENANT, expiresInSeconds: TOKEN_TTL_SECONDS };
  });
}
