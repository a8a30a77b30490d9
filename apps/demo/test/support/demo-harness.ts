import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { createServer, loadConfig, type SwitchboardServer } from "@switchboard/server";
import { onCleanup } from "../../../../packages/server/test/support/server-harness.js";

/** The built demo the server serves; `npm test` builds it first. */
export const DEMO_DIST = fileURLToPath(new URL("../../dist", import.meta.url));
export const API_KEY = "demo-e2e-key-0123456789abcdef";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  // A fake camera and microphone, allowed without a prompt, for the WebRTC call.
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
];

/**
 * A real server on port 0 serving the built demo, on its generated development
 * secret (so `/dev/token` exists), with an API key for tenant `demo`. The caller
 * stops it (one server serves a whole suite).
 */
export async function startDemoServer(env: Record<string, string> = {}): Promise<SwitchboardServer> {
  if (!existsSync(`${DEMO_DIST}/index.html`)) throw new Error(`the demo is not built (${DEMO_DIST}): run \`npm run build\` first`);
  const config = loadConfig({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "silent", DATA_DIR: ":memory:", API_KEYS: `demo:${API_KEY}`, ...env });
  const server = await createServer({ config, demoDir: DEMO_DIST });
  await server.listen();
  return server;
}

/** Headless Chromium at CHROMIUM_PATH (set by vitest.config.ts); the caller closes it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: CHROMIUM_ARGS });
}

/** A fresh browser profile (its own sessionStorage) signed in as a demo user; closed after the test. */
export async function signedInPage(browser: Browser, url: string, userId: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, permissions: ["camera", "microphone"] });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.stack ?? err.message));
  onCleanup(async () => {
    await context.close().catch(() => {});
    if (errors.length) console.warn(`[demo e2e] page errors for ${userId}:`, errors);
  });
  await page.goto(url);
  await page.click(`[data-user="${userId}"]`);
  await page.waitForSelector('[data-testid="connection"][data-status="connected"]');
  return { context, page };
}
