import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { EventsService } from "../../core/events/events-service.js";
import type { Metrics } from "../../metrics.js";
import { ApiKeyRefusal, type ApiKeyVerifier } from "./api-key-auth.js";
import { recordHttpRequest } from "./http-app.js";
import { httpErrorAnswer } from "./http-errors.js";
import { parseJsonBody } from "./json-body.js";

/** A handler the HTTP server tries before fastify: true when it took the request and will answer it. */
export type FastLane = (request: IncomingMessage, response: ServerResponse) => boolean;

export interface PublishFastLaneOptions {
  events: EventsService;
  apiKeys: ApiKeyVerifier;
  metrics: Metrics;
  /** The HTTP component's logger. */
  logger: Logger;
  /** The body limit fastify applies (`MAX_PAYLOAD_BYTES`); longer bodies are left to it. */
  maxPayloadBytes: number;
  /** False once the server is stopping: fastify then answers, as it answers every other request. */
  isOpen: () => boolean;
}

const ROUTE = "/v1/events";
/** What the audit trail sees, as it sees the fastify route's requests. */
const AUDITED = { method: "POST", url: ROUTE } as const;

/**
 * `POST /v1/events` as an app backend sends it, served without fastify's
 * request pipeline.
 *
 * Why: a publish is the backend API's hot path, and at light load its time
 * before the broadcast is what a subscriber's latency adds on top of the
 * broadcast itself. Through fastify (routing, request and reply objects, hook
 * chain, body stream parser, async preHandler and handler) a publish reached
 * its broadcast about 0.4 ms after arriving, at 100 publishes/s on the
 * benchmark machine, where each of those steps runs with cold caches; plain
 * Socket.IO's hand-written handler took 0.18 ms, and this lane takes 0.29
 * (BENCHMARKS.md, session 16).
 *
 * It takes only the requests that need none of fastify's other work:
 * `POST /v1/events` with no query string, no `Origin` (so no CORS), a JSON
 * content type and a `Content-Length` within the body limit. Everything else,
 * including every request once the server is stopping, goes to the fastify
 * route, which answers the same way. The steps are the route's: the body is
 * parsed as fastify parses JSON, then the API key is checked (and audited)
 * by the same {@link ApiKeyVerifier}, then the events service validates and
 * publishes; errors leave through {@link httpErrorAnswer} like fastify's, and
 * the request is timed in the same histogram and logged at debug like the rest.
 */
export function publishFastLane(options: PublishFastLaneOptions): FastLane {
  return (request, response) => {
    if (!takes(request, options.maxPayloadBytes) || !options.isOpen()) return false;
    serve(request, response, options).catch((err: unknown) => {
      // serve answers its own errors; this is for one thrown while answering: log it and close the socket.
      options.logger.error({ err, url: ROUTE }, "http request failed");
      response.destroy();
    });
    return true;
  };
}

/** Whether the request is a backend's plain publish (see {@link publishFastLane}). */
function takes(request: IncomingMessage, maxPayloadBytes: number): boolean {
  if (request.method !== "POST" || request.url !== ROUTE) return false;
  const headers = request.headers;
  if (headers.origin !== undefined || headers["transfer-encoding"] !== undefined) return false;
  const length = headers["content-length"];
  if (length === undefined || Number(length) > maxPayloadBytes) return false;
  const type = headers["content-type"];
  return type === "application/json" || (type !== undefined && /^application\/json\s*;/i.test(type));
}

async function serve(request: IncomingMessage, response: ServerResponse, options: PublishFastLaneOptions): Promise<void> {
  const started = performance.now();
  let status: number;
  let payload: unknown;
  try {
    const input = parseJsonBody(await readBody(request));
    const tenantId = await options.apiKeys.tenantOf(request.headers.authorization, AUDITED);
    payload = await options.events.publish(tenantId, input);
    status = 202;
  } catch (err) {
    if (err instanceof BodyAborted) {
      response.destroy();
      return;
    }
    const answer = httpErrorAnswer(err);
    if (answer.internal) options.logger.error({ err, url: ROUTE }, "http request failed");
    if (err instanceof ApiKeyRefusal) response.setHeader("www-authenticate", err.challenge);
    status = answer.status;
    payload = answer.body;
  }
  const text = JSON.stringify(payload);
  // The headers fastify's route sends: its JSON content type, and the CORS hook's `Vary`.
  response.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), vary: "Origin" }).end(text);
  recordHttpRequest(options.metrics, options.logger, "POST", ROUTE, ROUTE, status, performance.now() - started);
}

/** The request went away before its body arrived: nobody to answer. */
class BodyAborted extends Error {}

/** The whole body as UTF-8 text; `Content-Length` framing (checked by `takes`) bounds it. */
function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.once("end", () => resolve(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8")));
    request.once("error", () => reject(new BodyAborted()));
    request.once("close", () => {
      if (!request.complete) reject(new BodyAborted());
    });
  });
}

