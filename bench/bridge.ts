/**
 * Postgres bridge latency (issue 8 / issue 12 scenario 5): 1,000 connected
 * users; rows inserted into the app's table (with the trigger from
 * `switchboard sql trigger`) reach the named user's socket. Measures INSERT
 * commit -> client receive, inserter and clients in one process (one clock).
 *
 *   npm run bench:bridge -- [--quick]
 */
import { SignJWT } from "jose";
import pg from "pg";
import { triggerSql } from "@switchboard/server";
import { benchDatabase } from "./lib/database.js";
import { startSwitchboard } from "./lib/server-process.js";
import { paced } from "./lib/paced.js";
import { runHeader, writeRun } from "./lib/report.js";
import { SioClient } from "./lib/sio-client.js";
import { Samples, processCpuSeconds } from "./lib/stats.js";
import { sharedClockMs } from "./lib/clock.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const USERS = 1000;
const RATES = quick ? [100] : [100, 500];
const STEP_MS = quick ? 5000 : 10_000;
const PG_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const SECRET = "bench-secret-0123456789abcdef0123456789";
const now = sharedClockMs;

const schema = `bench_app_${Date.now()}`;
const notifyChannel = `sb_bench_${Date.now()}`;
const app = new pg.Client({ connectionString: PG_URL });
await app.connect();
await app.query(`create schema ${schema}`);
await app.query(`create table ${schema}.moods (id bigserial primary key, user_id text not null, score int not null, sent_at double precision not null)`);
await app.query(triggerSql({ table: `${schema}.moods`, event: "mood_update", channel: "'user:' || NEW.user_id", tenant: "bench", notifyChannel }));

// Switchboard's own store on Postgres too (a fresh schema), as in the other scenarios.
const store = await benchDatabase("postgres");
const server = await startSwitchboard({
  JWT_SECRET: SECRET,
  ...store.env,
  EVENTS_DATABASE_URL: PG_URL,
  EVENTS_CHANNELS: notifyChannel,
  RATE_LIMITS: "connect=1000000/1",
});
const results = [];
try {
  const secret = new TextEncoder().encode(SECRET);
  let current = new Samples();
  let received = 0;
  const clients: SioClient[] = [];
  for (let i = 0; i < USERS; i += 100) {
    clients.push(
      ...(await Promise.all(
        Array.from({ length: 100 }, async (_, k) => {
          const token = await new SignJWT({ sub: `u${i + k}`, tenant: "bench" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("1h").sign(secret);
          const client = new SioClient(server.url, token);
          await client.connected;
          client.on("mood_update", (row: { sent_at: number }) => {
            received++;
            current.add(now() - row.sent_at);
          });
          return client;
        }),
      )),
    );
  }
  for (const rate of RATES) {
    current = new Samples();
    received = 0;
    const cpuBefore = await processCpuSeconds(server.pid);
    // sent_at is taken just before the INSERT: latency includes the insert, commit, NOTIFY, bridge and delivery.
    const sent = await paced(
      rate,
      STEP_MS,
      (n) => app.query(`insert into ${schema}.moods (user_id, score, sent_at) values ($1, $2, $3)`, [`u${n % USERS}`, 1 + (n % 5), now()]),
      5,
    );
    await new Promise((r) => setTimeout(r, 1000));
    const serverCpu = ((await processCpuSeconds(server.pid)) - cpuBefore) / (STEP_MS / 1000 + 1);
    const row = { rate, inserted: sent, received, latencyMs: current.summary(), serverCpuPercent: Math.round(serverCpu * 100) };
    console.error(`  rate=${rate}/s inserted=${sent} received=${received} p50=${row.latencyMs.p50} p99=${row.latencyMs.p99}`);
    results.push(row);
  }
  for (const c of clients) c.close();
} finally {
  await server.stop();
  await store.drop();
  await app.query(`drop schema ${schema} cascade`);
  await app.end();
}

const run = {
  ...(await runHeader("bridge", `npm run bench:bridge -- ${args.join(" ")}`.trim())),
  setup: { users: USERS, stepMs: STEP_MS },
  results,
};
const file = await writeRun(run);
console.log(`\nPostgres bridge benchmark, commit ${run.commit}, ${run.date}, written to ${file}\n`);
console.log("| inserts/s | inserted | received | INSERT->client p50 / p99 / p99.9 ms | server CPU |");
console.log("|---|---|---|---|---|");
for (const r of results) console.log(`| ${r.rate} | ${r.inserted} | ${r.received} | ${r.latencyMs.p50} / ${r.latencyMs.p99} / ${r.latencyMs.p999} | ${r.serverCpuPercent}% |`);
process.exit(0);
