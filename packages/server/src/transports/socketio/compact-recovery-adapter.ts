import { Adapter, type BroadcastOptions, type PrivateSessionId, type Room, type Session } from "socket.io-adapter";

/** What Socket.IO hands {@link CompactRecoveryAdapter.persistSession} when a recoverable socket drops. */
type SessionToPersist = Omit<Session, "missedPackets">;

/** A dropped socket's session, kept for the recovery window. */
interface StoredSession extends SessionToPersist {
  disconnectedAt: number;
}

/** One broadcast kept for replay. Every field is always set, so all records share one shape. */
interface StoredPacket {
  /** Position in this adapter's sequence of stored broadcasts; the offset clients see is its base-36 form. */
  seq: number;
  emittedAt: number;
  /** The rooms it went to; empty means every socket of the namespace. */
  rooms: Room[];
  except: Room[] | undefined;
  /**
   * The packet as Socket.IO encoded it for the wire (`2`, the namespace and a
   * comma unless it is `/`, then the arguments as a JSON array, offset last);
   * or, for a packet with binary parts, which JSON cannot carry, the arguments themselves.
   */
  packet: string | unknown[];
}

/** Socket.IO's packet type for an event (socket.io-parser's `PacketType.EVENT`). */
const EVENT = 2;

/**
 * Socket.IO's connection state recovery on one node, with each broadcast kept
 * as the JSON text Socket.IO sent rather than as the objects it was built from.
 *
 * Why: the stock in-memory adapter (`SessionAwareAdapter`) keeps, for every
 * broadcast, its argument objects (a chat message's whole object graph), the
 * broadcast's option object and its two room `Set`s, for the recovery window
 * plus up to the minute until its prune timer runs: a dozen or more live
 * objects per broadcast, for the garbage collector to promote and trace. Here
 * a broadcast is one record, its room names and one string, which the
 * collector copies once and never traces into; and the string is the
 * encoder's own output, so keeping it costs no serialization. Measured
 * (BENCHMARKS.md, session 18): per chat message of a three-person
 * conversation, 693 bytes of heap kept against 1,286 (`bench/recovery-memory.ts`).
 *
 * Replay is Socket.IO's: a session restored within the window gets every kept
 * broadcast after the offset it last saw that was addressed to one of its rooms
 * and not excluded from them, parsed back from the text (the same JSON the wire
 * carried). Differences from the stock adapter (to a client the offset is
 * still an opaque string it hands back):
 * - offsets are this adapter's own sequence numbers (base 36) rather than
 *   time-based ids, so the offset a client presents is found without a scan;
 * - broadcasts older than the window are pruned every `min(window, 10 s)`
 *   instead of every minute: an offset older than the window cannot be resumed
 *   from (the stock adapter could, until its next prune, up to a minute later).
 *
 * Used only without a cluster adapter: with Redis, the Redis Streams adapter
 * keeps sessions and broadcasts in Redis instead.
 */
export class CompactRecoveryAdapter extends Adapter {
  private readonly sessions = new Map<PrivateSessionId, StoredSession>();
  /** For each room, how many kept sessions were in it (see {@link awaits}). */
  private readonly awaited = new Map<Room, number>();
  /** Stored broadcasts, oldest first, with consecutive `seq`s. */
  private packets: StoredPacket[] = [];
  private nextSeq = 0;
  private readonly windowMs: number;
  private readonly pruner: NodeJS.Timeout;
  /** What the namespace's encoder returned for the broadcast under way (see the constructor). */
  private lastEncoded: unknown[] | undefined;
  /** What precedes the arguments' JSON array in an encoded event of this namespace: `2`, and `<nsp>,` unless it is `/`. */
  private readonly prefix: string;

  constructor(nsp: ConstructorParameters<typeof Adapter>[0]) {
    super(nsp);
    const name = (nsp as { name: string }).name;
    this.prefix = name === "/" ? "2[" : `2${name},[`;
    this.windowMs = (nsp as { server: { opts: { connectionStateRecovery: { maxDisconnectionDuration: number } } } }).server.opts.connectionStateRecovery.maxDisconnectionDuration;
    // The base adapter encodes a broadcast once, for every socket, with `this.encoder`:
    // watching it hands over the JSON text without encoding the packet a second time.
    const self = this as unknown as { encoder: { encode(packet: unknown): unknown[] } };
    const encoder = self.encoder;
    self.encoder = {
      encode: (packet: unknown) => {
        const encoded = encoder.encode(packet);
        this.lastEncoded = encoded;
        return encoded;
      },
    };
    this.pruner = setInterval(() => this.prune(Date.now()), Math.max(10, Math.min(this.windowMs, 10_000)));
    this.pruner.unref();
  }

  override persistSession(session: SessionToPersist): void {
    this.forget(session.pid);
    this.sessions.set(session.pid, { ...session, disconnectedAt: Date.now() });
    for (const room of session.rooms) this.awaited.set(room, (this.awaited.get(room) ?? 0) + 1);
  }

  /**
   * Whether a dropped client that may still recover was in one of these rooms.
   * A broadcast to rooms with no socket on this node has no one to go to now,
   * but must still be kept for such a client: its caller emits it anyway.
   */
  awaits(rooms: readonly Room[]): boolean {
    return this.awaited.size > 0 && rooms.some((room) => this.awaited.has(room));
  }

  override restoreSession(pid: PrivateSessionId, offset: string): Promise<Session> {
    const session = this.sessions.get(pid);
    // Socket.IO reads a null session as "not recoverable" and starts a fresh one (the declared type says otherwise).
    const none = Promise.resolve(null as unknown as Session);
    if (!session) return none;
    if (session.disconnectedAt + this.windowMs < Date.now()) {
      this.forget(pid);
      return none;
    }
    const start = this.indexOf(offset);
    if (start === undefined) return none;
    const missedPackets: unknown[][] = [];
    for (let i = start + 1; i < this.packets.length; i++) {
      const packet = this.packets[i]!;
      if (addressedTo(session.rooms, packet)) missedPackets.push(typeof packet.packet === "string" ? (JSON.parse(packet.packet.slice(this.prefix.length - 1)) as unknown[]) : packet.packet);
    }
    const { disconnectedAt: _, ...persisted } = session;
    return Promise.resolve({ ...persisted, missedPackets });
  }

  override broadcast(packet: { type: number; id?: number; data: unknown[]; nsp?: string }, opts: BroadcastOptions): void {
    // As the stock adapter: events only, not those awaiting acknowledgements (the callback cannot be
    // kept) nor volatile ones (allowed to be lost).
    if (packet.type !== EVENT || packet.id !== undefined || opts.flags?.volatile !== undefined) return super.broadcast(packet, opts);
    const seq = this.nextSeq++;
    // The offset goes last among the arguments: the client records it, and sends it back on reconnection.
    packet.data.push(seq.toString(36));
    this.lastEncoded = undefined;
    super.broadcast(packet, opts);
    // Set by the encoder during super.broadcast (TypeScript cannot see that call assign it).
    const encoded = this.lastEncoded as unknown[] | undefined;
    this.lastEncoded = undefined;
    // The whole encoded string, not a slice of it: a slice would keep it alive anyway, behind one more object.
    const text = encoded?.length === 1 && typeof encoded[0] === "string" && encoded[0].startsWith(this.prefix) ? encoded[0] : undefined;
    this.packets.push({
      seq,
      emittedAt: Date.now(),
      rooms: [...opts.rooms],
      except: opts.except && opts.except.size > 0 ? [...opts.except] : undefined,
      packet: text ?? packet.data,
    });
  }

  override close(): void {
    clearInterval(this.pruner);
    this.sessions.clear();
    this.awaited.clear();
    this.packets = [];
  }

  /** Stored broadcasts and sessions, for tests. */
  get stored(): { packets: number; sessions: number } {
    return { packets: this.packets.length, sessions: this.sessions.size };
  }

  /** Forgets broadcasts and sessions older than the window. */
  prune(now: number): void {
    const threshold = now - this.windowMs;
    for (const [pid, session] of this.sessions) if (session.disconnectedAt < threshold) this.forget(pid);
    let expired = 0;
    while (expired < this.packets.length && this.packets[expired]!.emittedAt < threshold) expired++;
    if (expired > 0) this.packets.splice(0, expired);
  }

  /** Drops a kept session and its rooms' counts. */
  private forget(pid: PrivateSessionId): void {
    const session = this.sessions.get(pid);
    if (!session) return;
    this.sessions.delete(pid);
    for (const room of session.rooms) {
      const count = this.awaited.get(room)! - 1;
      if (count > 0) this.awaited.set(room, count);
      else this.awaited.delete(room);
    }
  }

  /** The index of the broadcast whose offset the client presented, if it is still kept. */
  private indexOf(offset: string): number | undefined {
    const first = this.packets[0];
    if (first === undefined || typeof offset !== "string" || !/^[0-9a-z]{1,11}$/.test(offset)) return undefined;
    const index = parseInt(offset, 36) - first.seq;
    return index >= 0 && index < this.packets.length && this.packets[index]!.seq.toString(36) === offset ? index : undefined;
  }
}

/** Socket.IO's rule: sent to every socket or to one of the session's rooms, and not excluded from any of them. */
function addressedTo(sessionRooms: Room[], packet: StoredPacket): boolean {
  const included = packet.rooms.length === 0 || sessionRooms.some((room) => packet.rooms.includes(room));
  return included && (packet.except === undefined || sessionRooms.every((room) => !packet.except!.includes(room)));
}
