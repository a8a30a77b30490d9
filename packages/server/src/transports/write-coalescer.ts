import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type ServerOptions, type WebSocket } from "ws";

/** The callback of a `write` to a TCP socket. */
type WriteCallback = (err?: Error | null) => void;

/** `ws`'s `Sender#sendFrame`: writes one frame (header and payload, or one buffer) to the TCP socket. */
type SendFrame = (list: unknown[], callback?: WriteCallback) => void;

/** When the {@link WriteCoalescer} holds writes. */
export interface WriteCoalescerOptions {
  /** Socket-turns (one socket written to in one turn) per decision whether to hold. Default 256. */
  decisionWindow?: number;
  /**
   * Turns with writes after which a decision is made even if the window holds
   * fewer socket-turns. Default 16: a server with a handful of sockets fills a
   * window of 256 only after dozens or hundreds of messages, and until then it kept the
   * last decision (at start, holding), delaying every frame to the end of its turn.
   */
  decisionTurns?: number;
  /**
   * Frames per socket-turn from which holding pays. Default 1.2: below it most
   * sockets get one frame a turn, and holding would only delay it.
   */
  minFramesPerSocket?: number;
}

/**
 * Coalesces the frames written to one TCP socket during one turn of the event
 * loop into a single `writev` system call, when the traffic is such that
 * sockets get several frames a turn.
 *
 * Why: every WebSocket frame `ws` sends is its own write system call, and on a
 * busy server those calls, not JavaScript, are the largest cost (a CPU profile
 * of the chat benchmark shows `writev` as the top self-time entry). A chat
 * recipient or a fan-out subscriber often gets several frames in one turn
 * (messages of several conversations, acks, receipts); corking the socket at
 * the first frame and uncorking once the turn's I/O callbacks have run
 * (`setImmediate`) sends them together. Nothing is reordered, since one
 * socket's frames stay in their order.
 *
 * Holding costs latency: a broadcast to a large room waits until the end of
 * the turn, and its first recipients get it later than had each write gone
 * out during the broadcast loop (at 1,000 subscribers and 20 publishes/s the
 * median delay was about 5 ms higher than plain Socket.IO's). When sockets get
 * one frame a turn, as under light fan-out, there is nothing to coalesce and
 * that delay buys nothing. So the coalescer counts frames per socket-turn,
 * and every `decisionWindow` socket-turns (or `decisionTurns` turns, whichever
 * comes first) decides: hold while there are at least `minFramesPerSocket`,
 * write through otherwise. The count goes on in
 * both modes, so it goes back to holding as soon as the traffic piles up
 * frames again.
 */
export class WriteCoalescer {
  /** Sockets corked this turn, with the callbacks of their held writes. */
  private held = new Map<Duplex, WriteCallback[]>();
  /** The sockets {@link release} is running callbacks for: still corked, and their new writes join this release. */
  private releasing: Map<Duplex, WriteCallback[]> | undefined;
  /** Sockets held past the end of their turn (see {@link holdUntilReleased}), with the callbacks of their held writes. */
  private readonly pinned = new Map<Duplex, WriteCallback[]>();
  /** Each wrapped WebSocket's TCP socket, for {@link holdUntilReleased}. */
  private readonly sockets = new WeakMap<WebSocket, Duplex>();
  private scheduled = false;
  /** Whether new writes are held (decided from the traffic; see the class comment). */
  private holding = true;
  /** The turn being counted; {@link endTurn} moves it on. */
  private turn = 0;
  /** WebSocket frames written this turn. */
  private frames = 0;
  /**
   * Sockets written to this turn, held or not. Each wrapped socket remembers
   * the turn it was last counted in, so counting one costs a comparison: a
   * `Set` of the turn's sockets cost about 0.6 µs a frame in a 5,000-subscriber
   * fan-out profile, the coalescer's largest cost when it writes through.
   */
  private socketTurns = 0;
  /** Frames, socket-turns and turns since the last decision. */
  private window = { frames: 0, socketTurns: 0, turns: 0 };
  private readonly decisionWindow: number;
  private readonly decisionTurns: number;
  private readonly minFramesPerSocket: number;

  constructor(options: WriteCoalescerOptions = {}) {
    this.decisionWindow = options.decisionWindow ?? 256;
    this.decisionTurns = options.decisionTurns ?? 16;
    this.minFramesPerSocket = options.minFramesPerSocket ?? 1.2;
  }

  /** Whether writes are being held now (the decision of the last full window; tests read it). */
  get isHolding(): boolean {
    return this.holding;
  }

  /** Holds the socket's writes until the end of this turn of the event loop. */
  hold(socket: Duplex): void {
    if (this.isHeld(socket) || socket.destroyed) return;
    socket.cork();
    this.held.set(socket, []);
    this.schedule();
  }

  private isHeld(socket: Duplex): boolean {
    return this.held.has(socket) || this.releasing?.has(socket) === true || this.pinned.has(socket);
  }

  /**
   * Holds a WebSocket's writes across turns, from now until the returned
   * function is called or `maxMs` have passed: they then leave with the
   * frames of that turn, in one write.
   *
   * Why: a Socket.IO connect writes the namespace's CONNECT packet, and the
   * `connected` event once the connection's setup is done, which on Postgres
   * waits for a query (the user's presence record): two writes, a turn or
   * more apart. Held, they are one. The bound keeps a setup that hangs from
   * holding back the socket's other frames (Engine.IO's pings) for long.
   */
  holdUntilReleased(websocket: WebSocket, maxMs: number): () => void {
    const socket = this.sockets.get(websocket);
    // Unwrapped, closed, or being released right now: nothing to hold.
    if (!socket || socket.destroyed || this.releasing?.has(socket) || this.pinned.has(socket)) return () => {};
    const heldThisTurn = this.held.get(socket);
    if (heldThisTurn) this.held.delete(socket);
    else socket.cork();
    this.pinned.set(socket, heldThisTurn ?? []);
    const timer = setTimeout(() => release(), maxMs);
    timer.unref();
    const release = () => {
      clearTimeout(timer);
      const callbacks = this.pinned.get(socket);
      if (!callbacks) return;
      this.pinned.delete(socket);
      // Released with this turn's held sockets, corked until then, like any held write.
      if (this.releasing) this.releasing.set(socket, callbacks);
      else {
        this.held.set(socket, callbacks);
        this.schedule();
      }
    };
    return release;
  }

  /** Ends the turn with {@link release}, which also closes the count of a turn written through. */
  private schedule(): void {
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.release);
    }
  }

  /** Counts a frame written this turn; `newSocket` says it is the first to its socket this turn. */
  private countFrame(newSocket: boolean): void {
    this.frames++;
    if (newSocket) this.socketTurns++;
    // A frame written during a release belongs to the turn that release is closing.
    if (this.releasing === undefined) this.schedule();
  }

  /** Adds the ended turn to the window, and decides once the window is full (in socket-turns or in turns). */
  private endTurn(): void {
    // A turn that wrote no frame (an upgrade's 101 response alone) says nothing about the traffic.
    if (this.frames === 0) return;
    const window = this.window;
    window.frames += this.frames;
    window.socketTurns += this.socketTurns;
    window.turns++;
    this.frames = 0;
    this.socketTurns = 0;
    this.turn++;
    if (window.socketTurns < this.decisionWindow && window.turns < this.decisionTurns) return;
    // A window of turns whose writes were all to destroyed sockets counted no socket-turn: keep the decision.
    if (window.socketTurns > 0) this.holding = window.frames / window.socketTurns >= this.minFramesPerSocket;
    this.window = { frames: 0, socketTurns: 0, turns: 0 };
  }

  /**
   * Writes everything held and closes the turn's frame count; runs once per
   * turn in which anything was written.
   *
   * The held writes' callbacks run first, while the sockets are still corked.
   * Engine.IO sends nothing more to a socket until its last write's callback
   * ran, and queues the socket's later packets meanwhile (a second chat message
   * or publish of the turn). Run at the uncork, the callback made it send that
   * queue in a write of its own, a turn later. Run before, the queue joins this
   * write. Callbacks may write again, with callbacks of their own, so they run
   * in rounds until none is left (Engine.IO needs two: its queue, then nothing).
   */
  readonly release = (): void => {
    this.scheduled = false;
    const batch = this.held;
    this.held = new Map();
    this.releasing = batch;
    try {
      for (let round = 0; round < 8; round++) {
        let ran = false;
        for (const [socket, callbacks] of batch) {
          if (callbacks.length === 0) continue;
          ran = true;
          for (const callback of callbacks.splice(0)) settle(socket, callback);
        }
        if (!ran) break;
      }
    } finally {
      this.releasing = undefined;
      for (const [socket, callbacks] of batch) {
        socket.uncork();
        // Callbacks of writes made in the last round: their bytes left with this uncork.
        for (const callback of callbacks) process.nextTick(settle, socket, callback);
      }
      this.endTurn();
    }
  };

  /**
   * Makes every frame the WebSocket sends go through the coalescer: counted,
   * and held while the coalescer holds.
   *
   * The hook is `ws`'s `Sender#sendFrame`, the one place every frame passes
   * (`send`, ping, pong, close, and the frames Socket.IO broadcasts encode
   * once for a whole room and Engine.IO hands to `_sender.sendFrame`, which
   * never call `websocket.send`). A held frame's callback is kept for
   * {@link release}.
   *
   * Until session 17 the hook sat on the TCP socket's `cork` and `write`:
   * three wrapped calls a frame, each through a bound function, and a guess
   * from the socket's cork count at which writes began a frame. Here the
   * socket's own methods are left alone and a frame costs one call. (Alternated
   * with the old hook, it measured the same server CPU at light and at
   * saturating fan-out: BENCHMARKS.md, session 17.)
   *
   * A `ws` without `_sender.sendFrame` (a version that renamed it) gets no
   * hook: its frames are written at once, as plain `ws` writes them.
   */
  wrap(websocket: WebSocket, socket: Duplex): WebSocket {
    const sender = (websocket as unknown as { _sender?: { sendFrame?: SendFrame } })._sender;
    const sendFrame = sender?.sendFrame;
    if (!sender || typeof sendFrame !== "function") return websocket;
    this.sockets.set(websocket, socket);
    /** The turn this socket was last counted in. */
    let countedTurn = -1;
    sender.sendFrame = (list: unknown[], callback?: WriteCallback): void => {
      // A destroyed socket fails the write at once; its callback must hear the error.
      if (socket.destroyed) return sendFrame.call(sender, list, callback);
      const newSocket = countedTurn !== this.turn;
      countedTurn = this.turn;
      this.countFrame(newSocket);
      const held = this.isHeld(socket);
      if (!this.holding && !held) return sendFrame.call(sender, list, callback);
      this.hold(socket);
      if (callback) (this.releasing?.get(socket) ?? this.held.get(socket) ?? this.pinned.get(socket)!).push(callback);
      sendFrame.call(sender, list, undefined);
    };
    return websocket;
  }

  /**
   * A `ws` server class for Engine.IO's `wsEngine` option whose sockets write
   * through this coalescer (Engine.IO constructs it itself, so the class closes
   * over this instance rather than a module-level one).
   */
  wsEngine(): new (options?: ServerOptions) => WebSocketServer {
    const coalescer = this;
    return class CoalescingWebSocketServer extends WebSocketServer {
      override handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, callback: (client: WebSocket, request: IncomingMessage) => void): void {
        // The 101 response and Engine.IO's open packet, written in this same turn, leave in one write instead of two.
        coalescer.hold(socket);
        super.handleUpgrade(request, socket, head, (client, req) => callback(coalescer.wrap(client, socket), req));
      }
    };
  }
}

/** Runs a held write's callback: with an error if the socket was destroyed before its bytes left. */
function settle(socket: Duplex, callback: WriteCallback): void {
  try {
    callback(socket.destroyed ? new Error("socket closed before the held write was sent") : null);
  } catch (err) {
    // A throwing callback must not leave the other sockets corked; it still surfaces.
    process.nextTick(() => {
      throw err;
    });
  }
}
