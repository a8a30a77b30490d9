/**
 * Measures the built-in crisis screener on the labelled evaluation set and
 * prints precision, recall and false-positive rate per category, for the dev
 * split (the rules were tuned on it) and the held-out split (they were not).
 *
 *   npm run eval:screener                   # both splits
 *   npm run eval:screener -- --split dev    # one split
 *   npm run eval:screener -- --misses       # also list every miss with its matches
 *   npm run eval:screener -- --json         # machine-readable summary
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { SCREEN_SEVERITIES, type ScreenSeverity } from "../src/ports/screener.js";
import { CrisisScreener } from "../src/core/moderation/crisis-screener.js";
import { isError, parseEvalSet, runEvaluation, summarize, type CaseOutcome, type Metrics } from "../src/core/moderation/screener-evaluation.js";

const EVAL_SET = new URL("../test/fixtures/crisis-eval.v1.jsonl", import.meta.url);

const { values } = parseArgs({
  options: {
    split: { type: "string" },
    misses: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
  },
});
const splits = values.split ? [values.split] : ["dev", "holdout"];
if (!splits.every((s) => s === "dev" || s === "holdout")) throw new Error("--split is dev or holdout");

const screener = new CrisisScreener();
const cases = parseEvalSet(readFileSync(EVAL_SET, "utf8"));
const outcomes = await runEvaluation(screener, cases);

const pct = (value: number | null) => (value === null ? "n/a" : `${(value * 100).toFixed(1)}%`);
const COLUMNS = ["category", "risky", "benign", "TP", "FN", "FP", "TN", "precision", "recall", "FPR", "category ok", "severity ok"];
const WIDTHS = [15, 5, 6, 3, 3, 3, 3, 9, 6, 5, 11, 11];
const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(WIDTHS[i]!) : c.padStart(WIDTHS[i]!))).join(" | ")} |`;
const row = (name: string, m: Metrics) =>
  line([name, m.risky, m.benign, m.tp, m.fn, m.fp, m.tn].map(String).concat([m.precision, m.recall, m.falsePositiveRate, m.categoryAgreement, m.severityMet].map(pct)));

const report: Record<string, ReturnType<typeof summarize>> = {};
for (const split of splits) report[split] = summarize(outcomes.filter((o) => o.case.split === split));

if (values.json) {
  console.log(JSON.stringify({ rulesVersion: screener.rulesVersion, date: new Date().toISOString().slice(0, 10), cases: cases.length, report }, null, 2));
} else {
  console.log(`crisis screener evaluation: rules ${screener.rulesVersion}, ${cases.length} phrases, ${new Date().toISOString().slice(0, 10)}`);
  for (const split of splits) {
    const n = outcomes.filter((o) => o.case.split === split).length;
    console.log(`\n${split} (${n} phrases)\n`);
    console.log(line(COLUMNS));
    console.log(`|${WIDTHS.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`);
    for (const [name, m] of Object.entries(report[split]!)) console.log(row(name, m));
  }
  console.log("\nTP/FN: risky phrases flagged/missed. FP/TN: benign look-alikes flagged/passed. category ok, severity ok: among TP.");
}

if (values.misses) {
  const describe = (o: CaseOutcome) => {
    const r = o.result;
    const got = r.flagged ? `${r.severity} ${r.category ?? "(mood)"} [${r.matches.map((m) => `${m.ruleId} "${m.excerpt}"`).join("; ")}]` : "not flagged";
    const want = o.case.label === "risk" ? `${o.case.minSeverity}+ ${o.case.category}` : `benign (${o.case.category} look-alike)`;
    return `${o.case.id} ${JSON.stringify(o.case.text)}\n    want ${want}; got ${got}`;
  };
  for (const split of splits) {
    const inSplit = outcomes.filter((o) => o.case.split === split);
    const misses = inSplit.filter(isError);
    const weak = inSplit.filter(
      (o) => o.case.label === "risk" && o.result.flagged && (o.result.category !== o.case.category || rank(o.result.severity!) < rank(o.case.minSeverity!)),
    );
    console.log(`\n${split}: ${misses.length} misses`);
    for (const o of misses) console.log(describe(o));
    console.log(`\n${split}: ${weak.length} flagged with another category or a lower severity`);
    for (const o of weak) console.log(describe(o));
  }
}

function rank(severity: ScreenSeverity): number {
  return SCREEN_SEVERITIES.indexOf(severity);
}
