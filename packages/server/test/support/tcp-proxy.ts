import { createServer, connect, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { onCleanup } from "./server-harness.js";

/** A TCP proxy the test controls, to cut a dependency (Redis) away and bring it back on the same port. */
export async function tcpProxy(target: { host: string; port: number }) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(target.port, target.host);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on("error", drop).on("close", drop);
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, "127.0.0.1", () => {
        port = (server!.address() as AddressInfo).port;
        resolve();
      });
    });
  /** Drops every connection and refuses new ones. */
  const cut = async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  };
  await listen();
  onCleanup(cut);
  return {
    get port() {
      return port;
    },
    cut,
    /** Accepts connections again, on the same port. */
    restore: listen,
  };
}
