import { createServer, type ServerOptions } from "node:http";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerFactory } from "fastify";
import type { Logger } from "pino";
import { redactUrl } from "../../logger.js";
import type { Metrics } from "../../metrics.js";
import type { OriginPolicy } from "../origin-policy.js";
import { useCors } from "./cors.js";
import { codeForStatus, HTTP_STATUS, httpErrorAnswer } from "./http-errors.js";
import type { FastLane } from "./publish-fast-lane.js";
import { useJsonBodyParser } from "./json-body.js";
import { LazyRequestLogger } from "./request-logger.js";

export interface HttpAppOptions {
  maxPayloadBytes: number;
  origins: OriginPolicy;
  metrics: Metrics;
  logger: Logger;
  /** Makes the handler tried before fastify on every request, given the HTTP logger (the backend's publishes; see `publishFastLane`). */
  fastLane?: (httpLogger: Logger) => FastLane;
}

/**
 * The fastify instance every HTTP route hangs off. Errors of any origin leave as
 * `{ error: { code, message } }` with the code's status; requests from origins
 * outside the allowlist are refused before routing.
 */
export async function createHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  const { origins, metrics, logger } = options;
  const httpLogger = logger.child({ component: "http" });
  const app = Fastify({
    loggerInstance: httpLogger as FastifyBaseLogger,
    // Request lines are logged by the onResponse hook below, with token query values redacted.
    logController: new LogController({ disableRequestLogging: true }),
    // Each request's logger is made a pino child only once something is logged on it (see LazyRequestLogger).
    childLoggerFactory: (parent, bindings, childOptions) => new LazyRequestLogger(parent as Logger, bindings, childOptions),
    bodyLimit: options.maxPayloadBytes,
    ...(options.fastLane && { serverFactory: serverWithFastLane(options.fastLane(httpLogger)) }),
    // Path parameters carry ids of up to 128 characters, percent-encoded up to three times longer
    // (`@`, `:`, `=`, `+`); fastify's default of 100 would answer 414 for valid ids.
    routerOptions: { maxParamLength: 512 },
    // Socket.IO and other WebSocket endpoints keep long-lived connections on this server.
    forceCloseConnections: "idle",
    // Errors fastify raises before routing (a malformed percent-encoding, an over-long
    // parameter) leave in the same `{ error: { code, message } }` shape as every other error.
    frameworkErrors: (error, _request, reply) => {
      // The status is the code's own (a 414 for an over-long parameter reads 400 `bad_request`), as in httpErrorAnswer.
      const code = codeForStatus(typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400);
      void (reply as unknown as { code(status: number): { send(body: unknown): unknown } }).code(HTTP_STATUS[code]).send({ error: { code, message: error.message } });
    },
  });

  useCors(app, origins);

  // A callback hook rather than an async one: it runs on every request, and an
  // async hook costs a promise and a microtask turn each time.
  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? "unmatched";
    recordHttpRequest(metrics, httpLogger, request.method, route, request.url, reply.statusCode, reply.elapsedTime, request.log);
    done();
  });

  useJsonBodyParser(app);

  app.setErrorHandler((error, request, reply) => {
    const answer = httpErrorAnswer(error);
    if (answer.internal) request.log.error({ err: error, url: redactUrl(request.url) }, "http request failed");
    return reply.code(answer.status).send(answer.body);
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: { code: "not_found", message: `no route ${request.method} ${redactUrl(request.url).split("?")[0]}` } });
  });

  return app;
}

/**
 * One answered request: timed in the latency histogram and, at debug, logged
 * with its URL's token values redacted. Fastify's routes (from their
 * `onResponse` hook, logging on the request's own logger) and the fast lane
 * alike, so both count and log a request the same way.
 */
export function recordHttpRequest(metrics: Metrics, httpLogger: Logger, method: string, route: string, url: string, status: number, ms: number, log: Pick<FastifyBaseLogger, "debug"> = httpLogger): void {
  metrics.httpDuration.observe({ method, route, status: String(status) }, ms / 1000);
  // Checked first: the log line's fields (a redacted copy of the URL) would be built for nothing at info level.
  if (httpLogger.isLevelEnabled("debug")) log.debug({ method, url: redactUrl(url), status, ms }, "http request");
}

/**
 * The HTTP server fastify makes for itself (same timeouts), with a fast lane
 * tried on each request before fastify's own handler.
 */
function serverWithFastLane(fastLane: FastLane): FastifyServerFactory {
  return (handler, fastifyOptions) => {
    // fastify's options, defaults filled in, as it reads them for a server of its own.
    const { http, keepAliveTimeout, requestTimeout, connectionTimeout } = fastifyOptions as { http?: ServerOptions; keepAliveTimeout: number; requestTimeout: number; connectionTimeout: number };
    const server = createServer(http ?? {}, (request, response) => {
      if (!fastLane(request, response)) handler(request, response);
    });
    server.keepAliveTimeout = keepAliveTimeout;
    server.requestTimeout = requestTimeout;
    server.setTimeout(connectionTimeout);
    return server;
  };
}
