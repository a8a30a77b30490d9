import { webcrypto } from "node:crypto";
import { SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createTokenVerifier } from "../src/auth/token-verifier.js";

const SECRET = "token-verifier-test-secret-0123456789";

const token = () =>
  new SignJWT({ tenant: "acme" }).setProtectedHeader({ alg: "HS256" }).setSubject("alice").setExpirationTime("1h").sign(new TextEncoder().encode(SECRET));

afterEach(() => {
  vi.restoreAllMocks();
});

describe("HS256 token verifier", () => {
  it("imports the shared secret once for every token it checks", async () => {
    // Signed first: jose imports the secret to sign, too.
    const tokens = await Promise.all([token(), token(), token()]);
    const importKey = vi.spyOn(webcrypto.subtle, "importKey");
    const verifier = createTokenVerifier({ secret: SECRET });
    const callers = await Promise.all(tokens.map((t) => verifier.verify(t)));
    expect(callers.map((c) => c.userId)).toEqual(["alice", "alice", "alice"]);
    expect(importKey).toHaveBeenCalledTimes(1);
  });

  it("does not keep a failed key import: the token fails as token_invalid, and the next one imports again and verifies", async () => {
    const [first, second] = await Promise.all([token(), token()]);
    const importKey = vi.spyOn(webcrypto.subtle, "importKey").mockRejectedValueOnce(new Error("import failed"));
    const verifier = createTokenVerifier({ secret: SECRET });
    await expect(verifier.verify(first)).rejects.toMatchObject({ code: "token_invalid" });
    const caller = await verifier.verify(second);
    expect(caller).toMatchObject({ userId: "alice", tenantId: "acme" });
    expect(importKey).toHaveBeenCalledTimes(2);
  });
});
