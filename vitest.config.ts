import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

// The Postgres project runs the same suites against real Postgres. CI must have it:
// a CI run without DATABASE_URL fails here instead of passing on PGlite alone.
const postgres = Boolean(process.env.DATABASE_URL);
if (process.env.CI && !postgres) throw new Error("CI run without DATABASE_URL: the Postgres suite would not run");
if (!postgres) console.warn("[switchboard] DATABASE_URL unset: running the PGlite project only (Postgres suite not run)");
if (process.env.CI && !process.env.REDIS_URL) throw new Error("CI run without REDIS_URL: the Redis suite would not run");
if (!process.env.REDIS_URL) console.warn("[switchboard] REDIS_URL unset: the multi-node Redis suite is not run");

// The demo's end-to-end suite drives a real Chromium. CI must have it (.ci/run installs it);
// elsewhere a machine without it runs everything else and says so.
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const chromium = existsSync(chromiumPath);
if (process.env.CI && !chromium) throw new Error(`CI run without Chromium at ${chromiumPath}: the demo end-to-end suite would not run`);
if (!chromium) console.warn(`[switchboard] no Chromium at ${chromiumPath} (set CHROMIUM_PATH): the demo end-to-end suite is not run`);

export default defineConfig({
  resolve: {
    alias: {
      "@switchboard/protocol": src("protocol"),
      "@switchboard/server": src("server"),
      "@switchboard/client": src("client"),
      "@switchboard/react": src("react"),
    },
  },
  test: {
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      // The browser suite (apps/*/test) is about the page, not the database: PGlite project only.
      {
        extends: true,
        test: {
          name: "pglite",
          include: ["packages/*/test/**/*.test.{ts,tsx}", ...(chromium ? ["apps/*/test/**/*.test.ts"] : [])],
          env: { SWITCHBOARD_TEST_DB: "pglite", CHROMIUM_PATH: chromiumPath },
        },
      },
      ...(postgres
        ? [{ extends: true, test: { name: "postgres", include: ["packages/*/test/**/*.test.{ts,tsx}"], env: { SWITCHBOARD_TEST_DB: "postgres" } } }]
        : []),
    ],
  },
});
