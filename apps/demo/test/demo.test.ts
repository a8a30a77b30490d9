import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import type { SwitchboardServer } from "@switchboard/server";
import { API_KEY, launchChromium, signedInPage, startDemoServer } from "./support/demo-harness.js";

// `DEMO_SCREENSHOTS=1 npx vitest run --project pglite apps/demo/test` refreshes the README's pictures.
const SCREENSHOTS = process.env.DEMO_SCREENSHOTS ? fileURLToPath(new URL("../../../docs/", import.meta.url)) : undefined;
const screenshot = async (page: Page, name: string) => {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}${name}` });
};

const E2E_TIMEOUT = 90_000;

describe("the demo app in Chromium", () => {
  let server: SwitchboardServer;
  let browser: Browser;

  // One server and one browser for the suite; each test opens its own profiles (two users).
  beforeAll(async () => {
    server = await startDemoServer({ PRESENCE_OFFLINE_GRACE_MS: "300" });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** Provider opens (or creates) the direct conversation with `userId` from the People list. */
  const openConversationWith = async (page: Page, userId: string) => {
    await page.click(`[data-testid="person"][data-user="${userId}"]`);
    await page.waitForSelector(`[data-testid="conversation"][data-peer="${userId}"][aria-current="true"]`);
  };

  it("delivers a message with typing indicator and read tick, and shows presence, mood and going offline", async () => {
    const ada = await signedInPage(browser, server.url, "dr-ada");
    const sam = await signedInPage(browser, server.url, "sam");

    // Sam's mood reaches Ada's People list.
    await sam.page.selectOption('[data-testid="mood-select"]', "4");
    await ada.page.waitForSelector('[data-testid="person"][data-user="sam"][data-status="online"]');
    await expect.poll(() => ada.page.textContent('[data-testid="person"][data-user="sam"] [data-testid="presence-line"]')).toContain("good");

    // Ada starts a conversation through the protocol; it appears on Sam's side and opens.
    await openConversationWith(ada.page, "sam");
    await sam.page.waitForSelector('[data-testid="conversation"][data-peer="dr-ada"][aria-current="true"]');

    // Typing shows on the other side before the message is sent.
    await ada.page.click('[data-testid="composer"]');
    await ada.page.keyboard.type("Hi Sam, how are you feeling with the new dose?");
    await expect.poll(() => sam.page.textContent('[data-testid="typing"]')).toContain("Dr. Ada Okafor is typing");
    await ada.page.keyboard.press("Enter");

    const incoming = sam.page.locator('[data-testid="message"][data-mine="false"]', { hasText: "how are you feeling with the new dose?" });
    await incoming.waitFor();
    await expect.poll(() => sam.page.textContent('[data-testid="typing"]')).toBe("");

    // Sam's tab is visible, so Sam reads it: Ada's tick turns to read.
    await ada.page.waitForSelector('[data-testid="message"][data-mine="true"] [data-testid="tick"][data-state="read"]');

    await sam.page.fill('[data-testid="composer"]', "Better, thanks. A little dizzy in the mornings.");
    await sam.page.click('[data-testid="send"]');
    await ada.page.locator('[data-testid="message"][data-mine="false"]', { hasText: "dizzy in the mornings" }).waitFor();
    // Ada has the conversation open, so it does not stay unread in her list.
    await expect.poll(() => ada.page.locator('[data-testid="conversation-unread"]').count()).toBe(0);
    await ada.page.fill('[data-testid="composer"]', "Let's take it with breakfast instead. I'll call you in a minute.");
    await ada.page.keyboard.press("Enter");
    await sam.page.locator('[data-testid="message"]', { hasText: "with breakfast instead" }).waitFor();
    await ada.page.locator('[data-testid="message"][data-mine="true"]', { hasText: "with breakfast instead" }).locator('[data-testid="tick"][data-state="read"]').waitFor();
    await screenshot(ada.page, "demo-chat.png");

    // A reload keeps the session (this tab's sessionStorage) and reads the stored conversation back.
    await sam.page.reload();
    await sam.page.waitForSelector('[data-testid="connection"][data-status="connected"]');
    await sam.page.locator('[data-testid="message"]', { hasText: "with breakfast instead" }).waitFor();

    // Sam leaves: Ada sees Sam go offline.
    await sam.context.close();
    await ada.page.waitForSelector('[data-testid="person"][data-user="sam"][data-status="offline"]', { timeout: 10_000 });
  }, E2E_TIMEOUT);

  it("takes a message of 8,000 emoji in the composer (code points, as the server counts) and cuts the 8,001st", async () => {
    const ada = await signedInPage(browser, server.url, "dr-ada");
    // Sam, whose test is over: a message to someone offline leaves them a notification, which the bell test of Mia counts.
    await openConversationWith(ada.page, "sam");
    await ada.page.fill('[data-testid="composer"]', "😀".repeat(8001));
    // 8,000 emoji are 16,000 UTF-16 units: an input's maxLength of 8,000 would have kept half.
    const draft = await ada.page.inputValue('[data-testid="composer"]');
    expect([draft.length, draft === "😀".repeat(8000)]).toEqual([16_000, true]);
    await ada.page.keyboard.press("Enter");
    const stored = ada.page.locator('[data-testid="message"][data-mine="true"]', { hasText: "😀😀😀" });
    await stored.waitFor();
    expect((await stored.textContent())?.includes("😀".repeat(8000))).toBe(true);
  }, E2E_TIMEOUT);

  it("shows a notification published over HTTP on the bell badge, with a toast when high priority", async () => {
    const mia = await signedInPage(browser, server.url, "mia");
    const publish = (priority: string, title: string) =>
      fetch(`${server.url}/v1/notifications`, {
        method: "POST",
        headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ userIds: ["mia"], type: "lab", title, body: "Open the portal to read them.", priority }),
      });

    expect((await publish("normal", "Appointment confirmed")).status).toBe(201);
    await expect.poll(() => mia.page.textContent('[data-testid="unread-badge"]')).toBe("1");
    expect(await mia.page.locator('[data-testid="toast"]').count()).toBe(0);

    expect((await publish("high", "Lab results ready")).status).toBe(201);
    await expect.poll(() => mia.page.textContent('[data-testid="unread-badge"]')).toBe("2");
    await expect.poll(() => mia.page.textContent('[data-testid="toast"]')).toContain("Lab results ready");

    await mia.page.click('[data-testid="bell"]');
    await expect.poll(() => mia.page.textContent('[data-testid="notification-list"]')).toContain("Appointment confirmed");
    await screenshot(mia.page, "demo-notifications.png");
  }, E2E_TIMEOUT);

  it("connects a WebRTC call between two tabs: both peer connections reach connected", async () => {
    const ada = await signedInPage(browser, server.url, "dr-ada");
    const lee = await signedInPage(browser, server.url, "lee");
    await openConversationWith(ada.page, "lee");

    await ada.page.click('[data-testid="call-button"]');
    await ada.page.waitForSelector('[data-testid="call-panel"][data-phase="outgoing"]');
    await lee.page.waitForSelector('[data-testid="call-panel"][data-phase="incoming"]');
    await lee.page.click('[data-testid="call-accept"]');

    await ada.page.waitForSelector('[data-testid="call-panel"][data-pc-state="connected"]', { timeout: 20_000 });
    await lee.page.waitForSelector('[data-testid="call-panel"][data-pc-state="connected"]', { timeout: 20_000 });
    // Media really flows: each side decodes the other's (fake) camera.
    for (const page of [ada.page, lee.page]) {
      await expect.poll(() => page.$eval("video.remote", (video) => (video as HTMLVideoElement).videoWidth), { timeout: 15_000 }).toBeGreaterThan(0);
    }
    // Lee's presence shows in_call on Ada's side while the call runs.
    await ada.page.waitForSelector('[data-testid="person"][data-user="lee"][data-status="in_call"]');
    await ada.page.waitForTimeout(SCREENSHOTS ? 1500 : 0); // let the fake camera's frames arrive for the picture
    await screenshot(ada.page, "demo-call.png");

    await ada.page.click('[data-testid="call-end"]');
    await lee.page.waitForSelector('[data-testid="call-panel"][data-phase="ended"]');
  }, E2E_TIMEOUT);

  it("asks for a pasted JWT when the server has its own secret, and connects with it", async () => {
    const secured = await startDemoServer({ JWT_SECRET: "e2e-configured-secret-0123456789" });
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(secured.url);
      await page.waitForSelector('textarea[aria-label="JWT"]');
      expect(await page.locator("[data-user]").count()).toBe(0);
      const token = await secured.signToken({ sub: "nurse-joy", tenant: "acme", name: "Nurse Joy", roles: ["provider"] }, "1h");
      await page.fill('textarea[aria-label="JWT"]', token);
      await page.click('button[type="submit"]');
      await page.waitForSelector('[data-testid="connection"][data-status="connected"]');
      expect(await page.textContent('[data-testid="me"]')).toContain("Nurse Joy");
      await context.close();
    } finally {
      await secured.stop();
    }
  }, E2E_TIMEOUT);
});
