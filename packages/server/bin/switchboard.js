#!/usr/bin/env node
// The `switchboard` command (`npx switchboard ...`). It is a committed file rather than
// dist/cli.js itself because npm links a workspace's bin only if its target exists at install
// time, and dist/ is built afterwards (by `npm start`, `npm test` or `npm run build`).
import { existsSync } from "node:fs";

const cli = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write("switchboard: the server is not built yet; run `npm run build` (npm start and npm test build it too), then try again\n");
  process.exit(1);
}
await import(cli.href);
