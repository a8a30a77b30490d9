import { callInitiateSchema, callQualitySchema, callRefSchema, callRejectSchema, callSignalSchema } from "@switchboard/protocol";
import type { CallService } from "../../core/calls/call-service.js";
import { defineRequest, type RequestHandlers } from "./request-handler.js";

/** Call signaling requests (PROTOCOL.md section 7). */
export function callRequests(calls: CallService): RequestHandlers {
  return {
    "call:initiate": defineRequest(callInitiateSchema, (c, p) => calls.initiate(c.caller, p, { connectionId: c.id })),
    "call:accept": defineRequest(callRefSchema, (c, p) => calls.accept(c.caller, p.callId, { connectionId: c.id })),
    "call:reject": defineRequest(callRejectSchema, (c, p) => calls.reject(c.caller, p, { connectionId: c.id })),
    "call:end": defineRequest(callRefSchema, (c, p) => calls.end(c.caller, p.callId)),
    "call:signal": defineRequest(callSignalSchema, (c, p) => calls.signal(c.caller, p)),
    "call:quality": defineRequest(callQualitySchema, (c, p) => calls.quality(c.caller, p)),
  };
}
