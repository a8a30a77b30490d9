#!/usr/bin/env node
import { parseArgs } from "node:util";
import { runCluster } from "./cli/cluster.js";
import { keysCommand } from "./cli/keys.js";
import { DataDirInUseError } from "./drivers/sql/data-dir-lock.js";
import { triggerSql } from "./cli/sql-trigger.js";
import { ConfigError, helpText, loadConfig } from "./config/config.js";
import { createServer, type SwitchboardServer } from "./server.js";

/**
 * `switchboard [start] | --help`. The CLI is the only place that writes plain
 * text to the terminal; the server itself logs JSON through pino.
 */
async function main(argv: string[]): Promise<number> {
  const [command = "start", ...rest] = argv;
  if (command === "--help" || command === "-h" || command === "help" || rest.includes("--help")) {
    process.stdout.write(helpText());
    return 0;
  }
  if (command === "sql") return sqlCommand(rest);
  if (command === "keys") {
    try {
      return await keysCommand(rest, loadConfig(process.env), (text) => process.stdout.write(text));
    } catch (err) {
      process.stderr.write(`switchboard keys: ${(err as Error).message}\n`);
      return err instanceof ConfigError ? 1 : 2;
    }
  }
  if (command !== "start") {
    process.stderr.write(`switchboard: unknown command "${command}"\n\n${helpText()}`);
    return 2;
  }

  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`switchboard: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const cluster = clusterSize(rest);
  if (typeof cluster === "string") {
    process.stderr.write(`switchboard start: ${cluster}\n`);
    return 2;
  }
  if (cluster !== undefined) return runCluster({ nodes: cluster, config, env: process.env, write: (text) => process.stderr.write(text) });

  const server = await createServer({ config });
  const port = await server.listen();
  // Handlers first: whoever reads the banner may signal the process right away.
  installSignalHandlers(server);
  await printBanner(server, port);
  return -1;
}

/** `--cluster N` of `switchboard start`: the node count, undefined without the flag, or an error message. */
function clusterSize(args: string[]): number | undefined | string {
  try {
    const { values } = parseArgs({ args, options: { cluster: { type: "string" } } });
    if (values.cluster === undefined) return undefined;
    const n = Number(values.cluster);
    return Number.isInteger(n) && n >= 1 && n <= 32 ? n : "--cluster takes a node count from 1 to 32";
  } catch (err) {
    return (err as Error).message;
  }
}

/** `switchboard sql trigger --table t --event e --channel <sql> (--tenant id | --tenant-expr <sql>)`: prints the SQL. */
function sqlCommand(args: string[]): number {
  const [sub, ...flags] = args;
  if (sub !== "trigger") {
    process.stderr.write('switchboard sql: the only subcommand is "trigger"\n');
    return 2;
  }
  try {
    const { values } = parseArgs({
      args: flags,
      options: {
        table: { type: "string" },
        event: { type: "string" },
        channel: { type: "string" },
        tenant: { type: "string" },
        "tenant-expr": { type: "string" },
        "notify-channel": { type: "string" },
        "id-column": { type: "string" },
        on: { type: "string" },
      },
    });
    if (!values.table || !values.event || !values.channel) throw new Error("--table, --event and --channel are required");
    if (values["id-column"] !== undefined) throw new Error("--id-column is no longer used: events too large for NOTIFY go through switchboard_event_outbox, whatever the table's key");
    const on = (values.on ?? "insert").split(",").map((o) => o.trim());
    if (!on.every((o) => o === "insert" || o === "update")) throw new Error("--on takes insert, update or insert,update");
    process.stdout.write(
      triggerSql({
        table: values.table,
        event: values.event,
        channel: values.channel,
        tenant: values.tenant,
        tenantExpr: values["tenant-expr"],
        notifyChannel: values["notify-channel"],
        on: on as ("insert" | "update")[],
      }),
    );
    return 0;
  } catch (err) {
    process.stderr.write(`switchboard sql trigger: ${(err as Error).message}\n`);
    return 2;
  }
}

async function printBanner(server: SwitchboardServer, port: number): Promise<void> {
  const host = server.config.host === "0.0.0.0" || server.config.host === "::" ? "localhost" : server.config.host;
  const lines = [
    "",
    `Switchboard listening on http://${host}:${port}`,
    `  database: ${server.database.kind === "postgres" ? "Postgres (DATABASE_URL)" : `embedded PGlite in ${server.config.database.dataDir}`}`,
    server.demoApp ? `  demo app: http://${host}:${port}/ (open two tabs, sign in as two people)` : "  demo app: not built (npm run build)",
  ];
  if (server.devSecret) {
    const token = await server.signToken({ sub: "demo-user", tenant: "default", name: "Demo User", roles: ["patient"] }, "24h");
    lines.push(
      "",
      "No JWT_SECRET or JWKS_URL is set, so a development secret was generated (kept in DATA_DIR):",
      `  JWT_SECRET=${server.devSecret}`,
      "A demo token (user demo-user, tenant default, valid 24 h):",
      `  ${token}`,
      "Connect:",
      `  io("http://${host}:${port}", { auth: { token: "<the token above>" } })`,
    );
  }
  process.stdout.write(`${lines.join("\n")}\n\n`);
}

function installSignalHandlers(server: SwitchboardServer): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      server.logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    server.logger.info({ signal }, "stopping");
    const deadline = setTimeout(() => {
      server.logger.error({ timeoutMs: server.config.shutdown.timeoutMs }, "graceful stop took too long; exiting");
      process.exit(1);
    }, server.config.shutdown.timeoutMs);
    deadline.unref();
    server.stop().then(
      () => process.exit(0),
      (err) => {
        server.logger.error({ err }, "graceful stop failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err) => {
    // A refusal the user can act on is its message; anything else keeps its stack.
    const text = err instanceof DataDirInUseError ? err.message : ((err as Error).stack ?? String(err));
    process.stderr.write(`switchboard: failed to start: ${text}\n`);
    process.exit(1);
  },
);
