import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/** ws 8.21.3 fixes the 2024 many-headers DoS and the 2026 fragmented-frame DoS and memory disclosure. */
const WS_MINIMUM = [8, 21, 3];

function atLeast(version: string, minimum: number[]): boolean {
  const parts = version.split(".").map(Number);
  for (let i = 0; i < minimum.length; i++) {
    if ((parts[i] ?? 0) !== minimum[i]) return (parts[i] ?? 0) > minimum[i]!;
  }
  return true;
}

interface NpmTree {
  version?: string;
  dependencies?: Record<string, NpmTree>;
}

function versionsOf(name: string, tree: NpmTree, path = "", found: Record<string, string> = {}): Record<string, string> {
  for (const [dep, sub] of Object.entries(tree.dependencies ?? {})) {
    const here = path ? `${path} > ${dep}` : dep;
    if (dep === name && sub.version) found[here] = sub.version;
    versionsOf(name, sub, here, found);
  }
  return found;
}

describe("dependency floor", () => {
  it("every installed ws carries the 2024-2026 DoS fixes", () => {
    const root = fileURLToPath(new URL("../../../", import.meta.url));
    const tree = JSON.parse(execFileSync("npm", ["ls", "ws", "--all", "--json"], { cwd: root, encoding: "utf8" })) as NpmTree;
    const found = versionsOf("ws", tree);
    expect(Object.keys(found).length).toBeGreaterThan(0);
    for (const [where, version] of Object.entries(found)) expect(atLeast(version, WS_MINIMUM), `${where} is ws ${version}`).toBe(true);
  });
});
