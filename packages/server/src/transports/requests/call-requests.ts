import { callInitiateSchema, callQualitySchema, callRefSchema, callRejectSchema, callSignalSchema } from "@switchboard/protocol";
import type { CallService } from "../../core/calls/call-service.js";
import type { ChannelService } from "../../core/channels/channel-service.js";
import { joiningOnUse } from "./join-on-use.js";
import { defineRequest, type RequestHandlers } from "./request-handler.js";

/**
 * Call signaling requests (PROTOCOL.md section 7). Starting, accepting or
 * signaling in a call joins the connection to `call:{id}` (section 3; see
 * {@link joinOnUse}).
 */
export function callRequests(calls: CallService, channels: ChannelService): RequestHandlers {
  const callChannel = (callId: string) => `call:${callId}`;
  return {
    "call:initiate": defineRequest(
      callInitiateSchema,
      joiningOnUse(channels, (c, p) => calls.initiate(c.caller, p, { connectionId: c.id }), (_p, r) => callChannel(r.call.id)),
    ),
    "call:accept": defineRequest(callRefSchema, joiningOnUse(channels, (c, p) => calls.accept(c.caller, p.callId, { connectionId: c.id }), (p) => callChannel(p.callId))),
    "call:reject": defineRequest(callRejectSchema, (c, p) => calls.reject(c.caller, p, { connectionId: c.id })),
    "call:end": defineRequest(callRefSchema, (c, p) => calls.end(c.caller, p.callId)),
    "call:signal": defineRequest(callSignalSchema, joiningOnUse(channels, (c, p) => calls.signal(c.caller, p), (p) => callChannel(p.callId))),
    "call:quality": defineRequest(callQualitySchema, (c, p) => calls.quality(c.caller, p)),
  };
}
