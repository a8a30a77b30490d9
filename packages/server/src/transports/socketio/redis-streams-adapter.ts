import { createAdapter } from "@socket.io/redis-streams-adapter";
import type { Redis } from "ioredis";
import { handled } from "../../drivers/redis/handled-commands.js";

/** The official Socket.IO Redis Streams adapter, set up for Switchboard; `close` after the Socket.IO server. */
export interface StreamsAdapter {
  factory: ReturnType<typeof createAdapter>;
  close(): void;
}

/**
 * Socket.IO across nodes with `@socket.io/redis-streams-adapter`: a broadcast
 * is appended to one Redis stream that every node reads, and the stream is
 * what connection state recovery replays, so a client that reconnects to
 * another node within the window gets the packets it missed. Sessions of
 * dropped clients are kept under `<prefix>:sio:session:` for the window.
 *
 * The clients are tuned here because the adapter duplicates the one it gets:
 * - the publishing client fails fast (no offline queue, a command timeout):
 *   the adapter delivers to this node's sockets only after its XADD settles,
 *   so local clients must not wait on an unreachable Redis;
 * - the readers (blocking XREAD, pub/sub) queue while Redis is away and pick
 *   up from their last stream id once it is back, instead of spinning on errors.
 */
export function redisStreamsAdapter(redis: Redis, prefix: string): StreamsAdapter {
  const publisher = redis.duplicate({ lazyConnect: false, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2000 });
  const readers: Redis[] = [];
  publisher.on("error", () => {});
  // The adapter fires SET (session of a dropped client) and PUBLISH without handling their promises.
  handled(publisher, ["set", "publish"]);
  // The adapter calls `duplicate()` for its stream reader and its pub/sub client (whose SUBSCRIBE is not handled either).
  publisher.duplicate = () => {
    // No command timeout: the reader's XREAD blocks on purpose.
    const reader = redis.duplicate({ lazyConnect: false, enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined });
    reader.on("error", () => {});
    handled(reader, ["subscribe"]);
    readers.push(reader);
    return reader;
  };
  const factory = createAdapter(publisher, {
    streamName: `${prefix}:sio:stream`,
    channelPrefix: `${prefix}:sio`,
    sessionKeyPrefix: `${prefix}:sio:session:`,
    blockTimeInMs: 2000,
  });
  return {
    factory,
    close() {
      for (const reader of readers) reader.disconnect();
      publisher.disconnect();
    },
  };
}
