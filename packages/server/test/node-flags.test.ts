import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SERVER_NODE_FLAGS } from "../src/node-flags.js";

const ROOT_PACKAGE = fileURLToPath(new URL("../../../package.json", import.meta.url));
const CLI_SOURCE = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const BUILT_CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

/** The flags on a `node ...` command line (or a `#!/usr/bin/env -S node ...` line) before the script. */
function nodeFlags(commandLine: string): string[] {
  return commandLine.split(/\s+/).filter((word) => word.startsWith("--"));
}

describe("the node flags every server process runs with", () => {
  it("are all on npm start's command line", () => {
    const start = (JSON.parse(readFileSync(ROOT_PACKAGE, "utf8")) as { scripts: Record<string, string> }).scripts.start!;
    expect(start.startsWith("node ")).toBe(true);
    expect(nodeFlags(start)).toEqual([...SERVER_NODE_FLAGS]);
  });

  it("are all on the CLI's #! line, in the source and in the build", () => {
    for (const file of [CLI_SOURCE, BUILT_CLI]) {
      const shebang = readFileSync(file, "utf8").split("\n")[0]!;
      expect(shebang.startsWith("#!/usr/bin/env -S node ")).toBe(true);
      expect(nodeFlags(shebang)).toEqual([...SERVER_NODE_FLAGS]);
    }
  });

  it("are accepted by this node (a flag it does not know would stop the server from starting)", () => {
    const run = spawnSync(process.execPath, [...SERVER_NODE_FLAGS, "-e", "process.exit(0)"], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });
});
