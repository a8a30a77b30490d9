#!/usr/bin/env node
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

  const server = await createServer({ config });
  // Before anything announces readiness: a supervisor acting on the banner must find SIGTERM handled.
  installSignalHandlers(server);
  const port = await server.listen();
  await printBanner(server, port);
  return -1;
}

async function printBanner(server: SwitchboardServer, port: number): Promise<void> {
  const host = server.config.host === "0.0.0.0" || server.config.host === "::" ? "localhost" : server.config.host;
  const lines = [
    "",
    `Switchboard listening on http://${host}:${port}`,
    `  database: ${server.database.kind === "postgres" ? "Postgres (DATABASE_URL)" : `embedded PGlite in ${server.config.database.dataDir}`}`,
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
    process.stderr.write(`switchboard: failed to start: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
