import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

/** Where `npm run build` puts the demo app, seen from this file in `src/` or `dist/`. */
// A path join, not `new URL(…)`: DOM test environments (happy-dom) replace the global URL class.
export const DEFAULT_DEMO_DIR = join(dirname(fileURLToPath(import.meta.url)), "../../../../../apps/demo/dist");

/**
 * Serves the built demo app (`apps/demo/dist`) at `/`. Files are registered one
 * route each at start (`wildcard: false`), so nothing else is shadowed: `/v1`,
 * `/healthz`, `/socket.io`, `/app`, ... keep their own routes and unknown paths
 * keep the JSON 404. Without a build, `/` answers 404 with a note on how to build.
 *
 * @returns whether a built demo was found.
 */
export async function registerDemoAppRoutes(app: FastifyInstance, dir: string = DEFAULT_DEMO_DIR): Promise<boolean> {
  if (!dir || !existsSync(join(dir, "index.html"))) {
    app.get("/", async (_request, reply) =>
      reply
        .code(404)
        .type("text/plain; charset=utf-8")
        .send("Switchboard is running. The demo app is not built: run `npm run build` (or `npm start`, which builds it) and reload.\n"),
    );
    return false;
  }
  await app.register(fastifyStatic, { root: dir, wildcard: false, index: ["index.html"] });
  return true;
}
