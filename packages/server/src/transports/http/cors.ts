import type { FastifyInstance } from "fastify";
import { AppError } from "../../core/errors.js";
import type { OriginPolicy } from "../origin-policy.js";

/** Methods a page of an allowed origin may use: every method a route answers. */
const ALLOWED_METHODS = "GET,HEAD,POST,PUT,PATCH,DELETE";

/**
 * CORS for every HTTP route, and the `CORS_ORIGINS` allowlist:
 * - no `Origin` header (an app backend, curl, a same-origin navigation): nothing to do
 *   but `Vary: Origin`, since the answer would differ for a browser page;
 * - an origin outside the allowlist: 403 `forbidden`, before routing;
 * - an allowed origin: `Access-Control-Allow-Origin` (the origin itself) with
 *   credentials allowed; a preflight (`OPTIONS` with `Access-Control-Request-Method`)
 *   is answered 204 here, before any route's authentication, with the methods and
 *   the headers the page asked for. An `OPTIONS` request with an `Origin` but no
 *   `Access-Control-Request-Method` is not a preflight: 400.
 *
 * Why not `@fastify/cors`: its hook spread an options object, made an origin
 * resolver closure and wrote its headers on every request, those of app
 * backends included, and cost 30-40 µs of the 250 µs between a `POST /v1/events`
 * arriving and its broadcast at 100 publishes/s (BENCHMARKS.md, session 15). It also
 * offered only GET, HEAD and POST to pages, so a page could not send the
 * API's PUT and DELETE requests.
 */
export function useCors(app: FastifyInstance, origins: OriginPolicy): void {
  // A callback hook, not an async one: it runs on every request, and an async hook costs a promise and a microtask.
  app.addHook("onRequest", (request, reply, done) => {
    reply.header("vary", "Origin");
    const origin = request.headers.origin;
    if (origin === undefined) return done();
    if (!origins.isAllowed(origin)) return done(new AppError("forbidden", "origin not allowed"));
    reply.header("access-control-allow-origin", origin).header("access-control-allow-credentials", "true");
    if (request.method !== "OPTIONS") return done();
    const method = request.headers["access-control-request-method"];
    if (method === undefined) {
      void reply.code(400).type("text/plain").send("Invalid Preflight Request");
      return;
    }
    reply.header("access-control-allow-methods", ALLOWED_METHODS).header("vary", "Origin, Access-Control-Request-Headers");
    const headers = request.headers["access-control-request-headers"];
    if (headers !== undefined) reply.header("access-control-allow-headers", headers);
    // Safari waits for a body on a 204 without a length.
    void reply.code(204).header("content-length", "0").send();
  });

  // Lets an `OPTIONS` request reach the hook above on any path; one that is no preflight has no route here.
  app.options("*", (_request, reply) => {
    reply.callNotFound();
  });
}
