import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import { fileURLToPath } from "node:url";
import { SignJWT } from "jose";
import { killer, startSwitchboard, stopper } from "./server-process.js";

/** The servers a scenario can run against, by `--targets` name. */
export const TARGET_NAMES = ["switchboard", "socketio", "raw-ws"] as const;

/** One server under test, started by the harness, and how load clients talk to it. */
export interface Target {
  name: (typeof TARGET_NAMES)[number];
  url: string;
  pid: number;
  /** Handshake auth for a subscriber (Switchboard verifies a JWT; the peers ignore it). */
  token(sub: string): Promise<string>;
  /** The join request a subscriber sends: [event, payload]. */
  join: [string, unknown];
  /** The join request for another room (`room` as the peers name it; Switchboard's `topic:<room>`). */
  joinRoom(room: string): [string, unknown];
  /** Publishes one event to the room, or to `room`. */
  publish(event: string, data: unknown, room?: string): Promise<void>;
  stop(): Promise<void>;
  /** Ends the server at once (SIGKILL), for a scenario that does not measure the stop. */
  kill(): Promise<void>;
}

const BASELINES = fileURLToPath(new URL("../baselines/", import.meta.url));
export const SECRET = "bench-secret-0123456789abcdef0123456789";
const API_KEY = "bench-api-key-0123456789abcdef";
export const ROOM = "bench";

/** Children may hold more sockets than the default file limit allows. */
function spawnWithFileLimit(args: string[], env: Record<string, string>): ChildProcess {
  const command = `ulimit -n 65536 2>/dev/null || true; exec ${args.map((a) => `'${a}'`).join(" ")}`;
  return spawn("bash", ["-c", command], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
}

async function waitForListen(child: ChildProcess): Promise<string> {
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
    child.stderr!.on("data", (chunk) => (output += chunk));
    child.stdout!.on("data", (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/[^\s]+:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!.replace("localhost", "127.0.0.1"));
      }
    });
    child.once("exit", (code) => reject(new Error(`server exited ${code}:\n${output}`)));
  });
}

/** A peer server of bench/baselines/ running in its own process. */
export interface Peer {
  url: string;
  pid: number;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/** Starts bench/baselines/<file> with extra environment and waits until it listens. */
export async function startPeer(file: string, env: Record<string, string> = {}): Promise<Peer> {
  // BENCH_NODE_ARGS (e.g. --cpu-prof) applies to every server under test, peers included.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawnWithFileLimit([process.execPath, ...nodeArgs, "--import", "tsx", `${BASELINES}${file}`], env);
  const url = await waitForListen(child);
  return { url, pid: await childPid(child), stop: stopper(child), kill: killer(child) };
}

/** A peer baseline speaking Socket.IO framing; `publisher` says how the harness publishes to it (HTTP or a socket). */
async function baseline(name: "socketio" | "raw-ws", file: string, publisher: (url: string) => Promise<Target["publish"]>): Promise<Target> {
  const peer = await startPeer(file);
  const joinRoom = (room: string): [string, unknown] => ["join", room];
  return { name, ...peer, token: async () => "", join: joinRoom(ROOM), joinRoom, publish: await publisher(peer.url) };
}

/** The node process behind `bash -c exec`: exec keeps the pid. */
async function childPid(child: ChildProcess): Promise<number> {
  return child.pid!;
}

export async function startTarget(name: Target["name"], publisher: (url: string) => Promise<Target["publish"]>, env: Record<string, string> = {}): Promise<Target> {
  if (name === "socketio") return baseline(name, "plain-socketio.ts", publisher);
  if (name === "raw-ws") return baseline(name, "raw-ws.ts", publisher);
  const server = await startSwitchboard({ ...SWITCHBOARD_BENCH_ENV, DATA_DIR: ":memory:", ...env });
  return {
    name,
    url: server.url,
    pid: server.pid,
    token: benchToken,
    join: SWITCHBOARD_JOIN,
    joinRoom: switchboardJoin,
    publish: (event, data, room) => publishEvent(server.url, event, data, room),
    stop: () => server.stop(),
    kill: () => server.kill(),
  };
}

/** Settings of every Switchboard under benchmark: a known secret and API key, limits out of the way. */
export const SWITCHBOARD_BENCH_ENV: Record<string, string> = {
  JWT_SECRET: SECRET,
  API_KEYS: `bench:${API_KEY}`,
  RATE_LIMITS: "room=1000000/1,connect=1000000/1,other=1000000/1",
  MAX_CONNECTIONS_PER_USER: "100000",
};

/** What a Switchboard subscriber sends to join the benchmark room. */
export const SWITCHBOARD_JOIN: [string, unknown] = switchboardJoin(ROOM);

/** What a Switchboard client sends to join the topic channel of `room`. */
function switchboardJoin(room: string): [string, unknown] {
  return ["room:join", { room: `topic:${room}` }];
}

/** A user token of the bench tenant. */
export function benchToken(sub: string): Promise<string> {
  return new SignJWT({ sub, tenant: "bench" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("2h").sign(new TextEncoder().encode(SECRET));
}

/**
 * Keep-alive connections for the publisher. Node's `http.request` rather than
 * `fetch`: fetch (undici) spends several times the CPU per request in the
 * harness process, which shares the two cores with the server under test and
 * would add its own delay to every publish-to-receive latency.
 */
const publishAgent = new http.Agent({ keepAlive: true, maxSockets: 32 });

/** The app backend's path: `POST /v1/events` with the tenant's API key (keep-alive), to the benchmark room (or `room`). */
export function publishEvent(url: string, event: string, data: unknown, room = ROOM): Promise<void> {
  return postJson(`${url}/v1/events`, { channel: `topic:${room}`, event, data }, { authorization: `Bearer ${API_KEY}` });
}

/** The same path to a fan-out peer: its `POST /publish` handler (bench/baselines/http-publish.ts). */
export async function httpPeerPublisher(url: string): Promise<Target["publish"]> {
  return (event, data, room = ROOM) => postJson(`${url}/publish`, { room, event, data });
}

/** One JSON POST on the publisher's keep-alive connections; rejects on a non-2xx answer. */
function postJson(url: string, payload: unknown, headers: Record<string, string> = {}): Promise<void> {
  const body = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: "POST",
      agent: publishAgent,
      headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
    }, (res) => {
      let text = "";
      res.once("error", reject);
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => (res.statusCode && res.statusCode < 300 ? resolve() : reject(new Error(`publish failed: ${res.statusCode} ${text}`))));
    });
    req.once("error", reject);
    // A publish that gets no answer fails rather than holding the step open.
    req.setTimeout(10_000, () => req.destroy(new Error("publish timed out")));
    req.end(body);
  });
}
