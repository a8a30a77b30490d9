import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { onCleanup } from "./server-harness.js";

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local HTTP endpoint recording what it receives; `answer` picks each response status. */
export async function startReceiver(answer: (req: Received, index: number) => number = () => 200) {
  const received: Received[] = [];
  const waiters: (() => void)[] = [];
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const entry = { path: req.url ?? "/", headers: req.headers, body };
    received.push(entry);
    res.statusCode = answer(entry, received.length - 1);
    res.end();
    for (const wake of waiters.splice(0)) wake();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onCleanup(() => new Promise((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  /** Resolves once `count` requests have arrived. */
  const waitFor = async (count: number, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (received.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${received.length} of ${count} requests arrived`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
    return received;
  };
  return { url, received, waitFor };
}
