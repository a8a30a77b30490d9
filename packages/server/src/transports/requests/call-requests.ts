import { callInitiateSchema, callQualitySchema, callRefSchema, callRejectSchema, callSignalSchema } from "@switchboard/protocol";
import type { CallService } from "../../core/calls/call-service.js";
import type { ChannelService } from "../../core/channels/channel-service.js";
import { joinOnUse } from "./join-on-use.js";
import { defineRequest, type RequestHandlers } from "./request-handler.js";

/**
 * Call signaling requests (PROTOCOL.md section 7). Starting, accepting,
 * signaling in or reporting on a call joins the connection to `call:{id}`
 * (section 3; see {@link joinOnUse}).
 */
export function callRequests(calls: CallService, channels: ChannelService): RequestHandlers {
  return {
    "call:initiate": defineRequest(callInitiateSchema, async (c, p) => {
      const result = await calls.initiate(c.caller, p, { connectionId: c.id });
      await joinOnUse(channels, c, `call:${result.call.id}`);
      return result;
    }),
    "call:accept": defineRequest(callRefSchema, async (c, p) => {
      const result = await calls.accept(c.caller, p.callId, { connectionId: c.id });
      await joinOnUse(channels, c, `call:${p.callId}`);
      return result;
    }),
    "call:reject": defineRequest(callRejectSchema, (c, p) => calls.reject(c.caller, p, { connectionId: c.id })),
    "call:end": defineRequest(callRefSchema, (c, p) => calls.end(c.caller, p.callId)),
    "call:signal": defineRequest(callSignalSchema, async (c, p) => {
      const result = await calls.signal(c.caller, p);
      await joinOnUse(channels, c, `call:${p.callId}`);
      return result;
    }),
    "call:quality": defineRequest(callQualitySchema, (c, p) => calls.quality(c.caller, p)),
  };
}
