/**
 * The HTTP publish endpoint of the fan-out peers, written as a typical app's
 * internal route is: `POST /publish { room, event, data }` with a JSON body,
 * answered 202 once the server has broadcast it. Anything else is a 404.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

export interface Publish {
  room: string;
  event: string;
  data: unknown;
}

export async function readPublish(req: IncomingMessage, res: ServerResponse, broadcast: (publish: Publish) => void): Promise<void> {
  if (req.method !== "POST" || req.url !== "/publish") {
    res.writeHead(404).end();
    return;
  }
  let body = "";
  try {
    req.setEncoding("utf8");
    for await (const chunk of req) body += chunk;
  } catch {
    // The publisher went away mid-body: nothing to broadcast, nobody to answer.
    res.destroy();
    return;
  }
  try {
    broadcast(JSON.parse(body) as Publish);
    res.writeHead(202, { "content-type": "application/json" }).end("{}");
  } catch {
    res.writeHead(400).end();
  }
}
