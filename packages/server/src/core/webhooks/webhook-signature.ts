import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * `X-Switchboard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
 * Signing the timestamp with the body lets receivers refuse replays of old
 * deliveries.
 */
export function signWebhook(secret: string, body: string, timestamp: number): string {
  const mac = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
  return `t=${timestamp},v1=${mac}`;
}

/**
 * Checks a signature header the way a receiver should: constant-time compare,
 * and a timestamp no older than `toleranceSeconds`.
 *
 * @example
 * verifyWebhook(process.env.WEBHOOK_SECRET, rawBody, req.headers["x-switchboard-signature"])
 */
export function verifyWebhook(secret: string, body: string, header: string | undefined, toleranceSeconds = 300, now = Date.now()): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? "");
  if (!match) return false;
  const timestamp = Number(match[1]);
  if (Math.abs(now / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, body, timestamp).slice(`t=${timestamp},v1=`.length), "hex");
  const given = Buffer.from(match[2]!, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
