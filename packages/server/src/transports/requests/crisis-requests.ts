import { z } from "zod";
import { serverIdSchema, storedText } from "@switchboard/protocol";
import type { CrisisService } from "../../core/crisis/crisis-service.js";
import { defineRequest, type RequestHandlers } from "./request-handler.js";

/** An alert id that is not one of the server's UUIDs names no alert: `not_found`, as for messages and calls. */
const alertRef = z.object({ alertId: serverIdSchema("alert") });

/** Support workflow on crisis alerts (`support` and `admin` roles only). */
export function crisisRequests(crisis: CrisisService): RequestHandlers {
  return {
    "crisis:acknowledge": defineRequest(alertRef, (c, p) => crisis.acknowledge(c.caller, p.alertId)),
    "crisis:resolve": defineRequest(alertRef.extend({ resolution: storedText().trim().min(1).max(2000).optional() }), (c, p) => crisis.resolve(c.caller, p.alertId, p.resolution)),
    "crisis:list": defineRequest(z.object({ status: z.enum(["open", "acknowledged", "resolved"]).optional(), limit: z.number().int().min(1).max(200).optional() }), (c, p) =>
      crisis.list(c.caller, p),
    ),
  };
}
