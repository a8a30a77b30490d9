import { createServer, connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { onCleanup } from "../../../server/test/support/server-harness.js";

/** A TCP proxy in front of a test server, to cut clients off for real (no client-side cooperation). */
export interface TcpProxy {
  /** `http://127.0.0.1:<proxy port>`. */
  url: string;
  /** Destroys every open connection and refuses new ones until `restore()`. */
  cut(): void;
  restore(): void;
  /** Sends new connections to another server from now on. */
  retarget(url: string): void;
}

export async function startProxy(targetUrl: string): Promise<TcpProxy> {
  let target = new URL(targetUrl);
  const open = new Set<Socket>();
  let refusing = false;
  const server = createServer((inbound) => {
    if (refusing) return inbound.destroy();
    const outbound = connect(Number(target.port), target.hostname);
    open.add(inbound).add(outbound);
    const drop = () => {
      inbound.destroy();
      outbound.destroy();
      open.delete(inbound);
      open.delete(outbound);
    };
    inbound.on("error", drop).on("close", drop);
    outbound.on("error", drop).on("close", drop);
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onCleanup(async () => {
    for (const socket of open) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut() {
      refusing = true;
      for (const socket of open) socket.destroy();
      open.clear();
    },
    restore() {
      refusing = false;
    },
    retarget(url) {
      target = new URL(url);
    },
  };
}
