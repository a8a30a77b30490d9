import { webcrypto } from "node:crypto";
import { SignJWT, jwtVerify, type JWTClaimVerificationOptions } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { verifyHs256 } from "../src/auth/hs256.js";
import { createTokenVerifier } from "../src/auth/token-verifier.js";

const SECRET = "token-verifier-test-secret-0123456789";
const KEY = new TextEncoder().encode(SECRET);

const token = () => new SignJWT({ tenant: "acme" }).setProtectedHeader({ alg: "HS256" }).setSubject("alice").setExpirationTime("1h").sign(KEY);
/** A valid HS256 token whose header carries `cty`, which the synchronous path leaves to jose. */
const tokenForJose = () =>
  new SignJWT({ tenant: "acme" }).setProtectedHeader({ alg: "HS256", cty: "JWT" }).setSubject("alice").setExpirationTime("1h").sign(KEY);

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
/** Re-signs `header.payload` by hand, so tests can build tokens jose's signer refuses to make. */
const signRaw = async (header: unknown, payload: unknown, key = KEY) => {
  const input = `${b64(header)}.${b64(payload)}`;
  const mac = await webcrypto.subtle.sign("HMAC", await webcrypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]), new TextEncoder().encode(input));
  return `${input}.${Buffer.from(mac).toString("base64url")}`;
};

/** What jose's own `jwtVerify` answers: the payload, or the error's code. */
async function joseAnswer(jwt: string, options: JWTClaimVerificationOptions) {
  try {
    return { payload: (await jwtVerify(jwt, KEY, { algorithms: ["HS256"], ...options })).payload };
  } catch (err) {
    return { code: (err as { code?: string }).code };
  }
}

/** What the synchronous path answers, or `jose` when it hands the token over. */
function fastAnswer(jwt: string, options: JWTClaimVerificationOptions) {
  try {
    const payload = verifyHs256(jwt, KEY, options);
    return payload === undefined ? "jose" : { payload };
  } catch (err) {
    return { code: (err as { code?: string }).code };
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("HS256 token verifier", () => {
  it("answers every plain HS256 token as jose's jwtVerify does: payload, or the same error", async () => {
    const now = Math.floor(Date.now() / 1000);
    const options: JWTClaimVerificationOptions = { issuer: "https://app.example", audience: "switchboard", requiredClaims: ["exp", "sub"] };
    const good = { sub: "alice", tenant: "acme", iss: "https://app.example", aud: "switchboard", exp: now + 600 };
    const valid = await signRaw({ alg: "HS256", typ: "JWT" }, good);
    const [h, p, s] = valid.split(".");
    const cases: Record<string, string> = {
      valid,
      "valid with kid": await signRaw({ alg: "HS256", kid: "k1" }, good),
      expired: await signRaw({ alg: "HS256" }, { ...good, exp: now - 600 }),
      "not yet valid": await signRaw({ alg: "HS256" }, { ...good, nbf: now + 600 }),
      "wrong issuer": await signRaw({ alg: "HS256" }, { ...good, iss: "https://evil.example" }),
      "wrong audience": await signRaw({ alg: "HS256" }, { ...good, aud: "other" }),
      "no exp": await signRaw({ alg: "HS256" }, { ...good, exp: undefined }),
      "no sub": await signRaw({ alg: "HS256" }, { ...good, sub: undefined }),
      "exp not a number": await signRaw({ alg: "HS256" }, { ...good, exp: "soon" }),
      "payload not an object": await signRaw({ alg: "HS256" }, [1, 2]),
      "signed with another secret": await signRaw({ alg: "HS256" }, good, new TextEncoder().encode("another-secret-another-secret-0000")),
      "payload swapped, signature kept": `${h}.${b64({ ...good, sub: "mallory" })}.${s}`,
      "signature truncated": `${h}.${p}.${s!.slice(0, -2)}`,
      "signature empty": `${h}.${p}.`,
      "header not JSON": `${Buffer.from("{alg").toString("base64url")}.${p}.${s}`,
    };
    // Malformed tokens go to jose, which names the fault.
    const malformed = new Set(["signature truncated", "signature empty", "header not JSON"]);
    for (const [name, jwt] of Object.entries(cases)) {
      const fast = fastAnswer(jwt, options);
      if (malformed.has(name)) expect(fast, name).toBe("jose");
      else expect(fast, name).toEqual(await joseAnswer(jwt, options));
    }
    expect(fastAnswer(valid, options)).toMatchObject({ payload: { sub: "alice" } });
  });

  it("hands tokens with other header members or algorithms to jose, which decides", async () => {
    const now = Math.floor(Date.now() / 1000);
    const payload = { sub: "alice", exp: now + 600 };
    const options: JWTClaimVerificationOptions = { requiredClaims: ["exp", "sub"] };
    for (const header of [{ alg: "HS256", crit: ["exp"], exp: 1 }, { alg: "HS256", b64: false, crit: ["b64"] }, { alg: "HS384" }, { alg: "none" }, { alg: "HS256", cty: "JWT" }]) {
      expect(fastAnswer(await signRaw(header, payload), options), JSON.stringify(header)).toBe("jose");
    }
    const verifier = createTokenVerifier({ secret: SECRET });
    await expect(verifier.verify(await signRaw({ alg: "HS384" }, payload))).rejects.toMatchObject({ code: "token_invalid" });
    await expect(verifier.verify(await signRaw({ alg: "HS256", crit: ["exp"], exp: 1 }, payload))).rejects.toMatchObject({ code: "token_invalid" });
    await expect(verifier.verify(await tokenForJose())).resolves.toMatchObject({ userId: "alice", tenantId: "acme" });
  });

  it("refuses a signature that is not the canonical base64url encoding of the MAC", async () => {
    const jwt = await token();
    const [h, p, s] = jwt.split(".");
    // 32 bytes take 43 characters, the last of which has 2 unused bits: flip one and the bytes decode the same.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(s!.at(-1)!);
    const variant = `${h}.${p}.${s!.slice(0, -1)}${alphabet[last ^ 1]}`;
    expect(Buffer.from(variant.split(".")[2]!, "base64url")).toEqual(Buffer.from(s!, "base64url"));
    await expect(createTokenVerifier({ secret: SECRET }).verify(variant)).rejects.toMatchObject({ code: "token_invalid" });
    await expect(createTokenVerifier({ secret: SECRET }).verify(jwt)).resolves.toMatchObject({ userId: "alice" });
  });

  it("checks plain HS256 tokens without WebCrypto", async () => {
    const tokens = await Promise.all([token(), token(), token()]);
    const importKey = vi.spyOn(webcrypto.subtle, "importKey");
    const verify = vi.spyOn(webcrypto.subtle, "verify");
    const callers = await Promise.all(tokens.map((t) => createTokenVerifier({ secret: SECRET }).verify(t)));
    expect(callers.map((c) => c.userId)).toEqual(["alice", "alice", "alice"]);
    expect(importKey).not.toHaveBeenCalled();
    expect(verify).not.toHaveBeenCalled();
  });

  it("imports the shared secret once for every token it hands to jose", async () => {
    // Signed first: jose imports the secret to sign, too.
    const tokens = await Promise.all([tokenForJose(), tokenForJose(), tokenForJose()]);
    const importKey = vi.spyOn(webcrypto.subtle, "importKey");
    const verifier = createTokenVerifier({ secret: SECRET });
    const callers = await Promise.all(tokens.map((t) => verifier.verify(t)));
    expect(callers.map((c) => c.userId)).toEqual(["alice", "alice", "alice"]);
    expect(importKey).toHaveBeenCalledTimes(1);
  });

  it("does not keep a failed key import: the token fails as token_invalid, and the next one imports again and verifies", async () => {
    const [first, second] = await Promise.all([tokenForJose(), tokenForJose()]);
    const importKey = vi.spyOn(webcrypto.subtle, "importKey").mockRejectedValueOnce(new Error("import failed"));
    const verifier = createTokenVerifier({ secret: SECRET });
    await expect(verifier.verify(first)).rejects.toMatchObject({ code: "token_invalid" });
    const caller = await verifier.verify(second);
    expect(caller).toMatchObject({ userId: "alice", tenantId: "acme" });
    expect(importKey).toHaveBeenCalledTimes(2);
  });
});
