import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { isReservedEventName } from "@switchboard/protocol";
import type { PusherApp } from "../../config/config.js";
import type { ChannelService } from "../../core/channels/channel-service.js";
import { AppError } from "../../core/errors.js";
import type { Broker } from "../../ports/broker.js";
import type { ChannelOccupancy } from "../../ports/channel-occupancy.js";
import { parseInput } from "../http/parse.js";
import { isValidSocketId, mapPusherChannel, type PusherChannel } from "./channel-names.js";
import { dataBytes, decodeData } from "./frames.js";
import type { PusherApps } from "./pusher-apps.js";
import { authenticateApiRequest } from "./request-auth.js";

/** Largest event `data` (Pusher's limit); larger is 413. */
export const EVENT_MAX_BYTES = 10 * 1024;
/** Largest request body: a full batch of 10 events at the data limit, plus room for names. */
const BODY_LIMIT_BYTES = 128 * 1024;

const dataSchema = z.unknown().refine((value) => value !== undefined, "data is required");
/**
 * Pusher's name limit, and none of the names Switchboard emits itself: these
 * events reach Socket.IO and plain WebSocket clients too, where a `connected`
 * or `message:new` from an app would pass for the server's (`POST /v1/events`
 * refuses the same names).
 */
const eventName = z.string().min(1).max(200).refine((name) => !isReservedEventName(name), "is reserved by Switchboard");
const triggerSchema = z
  .object({
    name: eventName,
    data: dataSchema,
    channels: z.array(z.string()).min(1).max(100).optional(),
    channel: z.string().optional(),
    socket_id: z.string().optional(),
    info: z.string().max(200).optional(),
  })
  .refine((event) => (event.channels === undefined) !== (event.channel === undefined), "exactly one of channels or channel is required");
const batchSchema = z.object({
  batch: z
    .array(z.object({ name: eventName, channel: z.string(), data: dataSchema, socket_id: z.string().optional(), info: z.string().max(200).optional() }))
    .min(1)
    .max(10),
});

export interface PusherHttpApiDeps {
  apps: PusherApps;
  broker: Broker;
  channels: ChannelService;
  occupancy: ChannelOccupancy;
  /** Closes the connections signed in as a user, on every node. */
  terminateUser(tenantId: string, userId: string): Promise<void>;
}

type Params = { Params: { appId: string; channelName: string; userId: string }; Querystring: Record<string, string> };

/**
 * The Pusher HTTP API (`/apps/{appId}/...`) for the official server libraries.
 * Bodies are kept raw until the request signature (with `body_md5`) is
 * verified, then parsed with zod; every failure is a 4xx in the
 * `{ error: { code, message } }` format, never a 500.
 */
export function registerPusherHttpApi(http: FastifyInstance, deps: PusherHttpApiDeps): void {
  http.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "string", bodyLimit: BODY_LIMIT_BYTES }, (_request, body, done) => done(null, body));
    scope.addHook("preHandler", async (request) => {
      request.pusherApp = authenticateApiRequest(deps.apps, request);
    });

    scope.post<Params>("/apps/:appId/events", async (request) => {
      const app = appOf(request);
      const event = parseInput(triggerSchema, jsonBody(request));
      const channels = event.channels ?? [event.channel!];
      const mapped = await publish(deps, app, { ...event, channels });
      const wanted = infoAttributes(event.info);
      if (wanted.size === 0) return {};
      return { channels: Object.fromEntries(await Promise.all(mapped.map(async (c) => [c.name, await channelInfo(deps, app, c, wanted)] as const))) };
    });

    scope.post<Params>("/apps/:appId/batch_events", async (request) => {
      const app = appOf(request);
      const { batch } = parseInput(batchSchema, jsonBody(request));
      for (const event of batch) checkSize(event.data);
      const results = [];
      for (const event of batch) {
        const [mapped] = await publish(deps, app, { ...event, channels: [event.channel] });
        const wanted = infoAttributes(event.info);
        results.push(wanted.size > 0 ? await channelInfo(deps, app, mapped!, wanted) : {});
      }
      return batch.some((event) => event.info) ? { batch: results } : {};
    });

    scope.get<Params>("/apps/:appId/channels", async (request) => {
      const app = appOf(request);
      const prefix = request.query.filter_by_prefix ?? "";
      const wanted = infoAttributes(request.query.info, ["user_count"]);
      if (wanted.has("user_count") && !prefix.startsWith("presence-")) throw new AppError("bad_request", "info=user_count needs filter_by_prefix=presence-");
      const occupied = await deps.occupancy.list(app.tenantId, prefix);
      const channels: Record<string, { user_count?: number }> = {};
      for (const name of occupied.keys()) {
        const mapped = mapPusherChannel(name);
        channels[name] = mapped.ok && wanted.size > 0 ? await channelInfo(deps, app, mapped.channel, wanted) : {};
      }
      return { channels };
    });

    scope.get<Params>("/apps/:appId/channels/:channelName", async (request) => {
      const app = appOf(request);
      const channel = channelParam(request.params.channelName);
      const info = await channelInfo(deps, app, channel, new Set(["subscription_count", "user_count"]));
      const wanted = infoAttributes(request.query.info);
      if (wanted.has("user_count") && channel.type !== "presence") throw new AppError("bad_request", "user_count is only available for presence channels");
      return {
        occupied: (info.subscription_count ?? 0) > 0 || (info.user_count ?? 0) > 0,
        ...(wanted.has("user_count") && { user_count: info.user_count }),
        ...(wanted.has("subscription_count") && { subscription_count: info.subscription_count }),
      };
    });

    scope.get<Params>("/apps/:appId/channels/:channelName/users", async (request) => {
      const app = appOf(request);
      const channel = channelParam(request.params.channelName);
      if (channel.type !== "presence") throw new AppError("bad_request", "users are only listed for presence channels");
      const members = await deps.channels.members(app.tenantId, channel.channel);
      return { users: members.map((member) => ({ id: member.userId })) };
    });

    scope.post<Params>("/apps/:appId/users/:userId/terminate_connections", async (request) => {
      const app = appOf(request);
      const userId = request.params.userId;
      if (userId.length === 0 || userId.length > 128) throw new AppError("bad_request", "user ids are 1-128 characters");
      await deps.terminateUser(app.tenantId, userId);
      return {};
    });
  });
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the Pusher HTTP API's signature check. */
    pusherApp?: PusherApp;
  }
}

function appOf(request: FastifyRequest): PusherApp {
  if (!request.pusherApp) throw new AppError("unauthorized", "invalid signature");
  return request.pusherApp;
}

function jsonBody(request: FastifyRequest): unknown {
  const raw = typeof request.body === "string" ? request.body : "";
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new AppError("bad_request", "the body must be JSON");
  }
}

function checkSize(data: unknown): void {
  if (dataBytes(data) > EVENT_MAX_BYTES) throw new AppError("payload_too_large", `event data is limited to ${EVENT_MAX_BYTES} bytes`);
}

function channelParam(name: string): PusherChannel {
  const mapped = mapPusherChannel(name);
  if (!mapped.ok) throw new AppError("bad_request", `invalid channel: ${mapped.reason}`);
  return mapped.channel;
}

/** Publishes one event through the Broker; its Pusher channel names become their Switchboard channels. */
async function publish(deps: PusherHttpApiDeps, app: PusherApp, event: { name: string; data: unknown; channels: string[]; socket_id?: string }): Promise<PusherChannel[]> {
  checkSize(event.data);
  if (event.socket_id !== undefined && !isValidSocketId(event.socket_id)) throw new AppError("bad_request", "socket_id must be digits.digits");
  const mapped = event.channels.map(channelParam);
  await deps.broker.publish({
    tenantId: app.tenantId,
    channels: [...new Set(mapped.map((c) => c.channel))],
    event: event.name,
    data: decodeData(event.data),
    ...(event.socket_id !== undefined && { exceptConnectionId: event.socket_id }),
  });
  return mapped;
}

/** `info` attributes asked for; unknown ones are a 400. */
function infoAttributes(info: string | undefined, allowed = ["user_count", "subscription_count"]): Set<string> {
  const wanted = new Set((info ?? "").split(",").map((s) => s.trim()).filter(Boolean));
  for (const attribute of wanted) if (!allowed.includes(attribute)) throw new AppError("bad_request", `unknown info attribute ${attribute.slice(0, 40)}`);
  return wanted;
}

async function channelInfo(deps: PusherHttpApiDeps, app: PusherApp, channel: PusherChannel, wanted: Set<string>): Promise<{ subscription_count?: number; user_count?: number }> {
  const info: { subscription_count?: number; user_count?: number } = {};
  if (wanted.has("subscription_count")) info.subscription_count = await deps.occupancy.count(app.tenantId, channel.name);
  if (wanted.has("user_count") && channel.type === "presence") info.user_count = (await deps.channels.members(app.tenantId, channel.channel)).length;
  return info;
}
