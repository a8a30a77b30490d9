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

const pct = (value: number | null) => (value === null ? "  n/a" : `${(value * 100).toFixed(1).padStart(5)}%`);
const row = (name: string, m: Metrics) =>
  `| ${name.padEnd(15)} | ${String(m.risky).padStart(5)} | ${String(m.benign).padStart(6)} | ${String(m.tp).padStart(3)} | ${String(m.fn).padStart(3)} | ${String(m.fp).padStart(3)} | ${String(m.tn).padStart(3)} | ${pct(m.precision)} | ${pct(m.recall)} | ${pct(m.falsePositiveRate)} | ${pct(m.categoryAgreement)} | ${pct(m.severityMet)} |`;

const report: Record<string, ReturnType<typeof summarize>> = {};
for (const split of splits) report[split] = summarize(outcomes.filter((o) => o.case.split === split));

if (values.json) {
  console.log(JSON.stringify({ rulesVersion: screener.rulesVersion, date: new Date().toISOString().slice(0, 10), cases: cases.length, report }, null, 2));
} else {
  console.log(`crisis screener evaluation: rules ${screener.rulesVersion}, ${cases.length} phrases, ${new Date().toISOString().slice(0, 10)}`);
  for (const split of splits) {
    const n = outcomes.filter((o) => o.case.split === split).length;
    console.log(`\n${split} (${n} phrases)\n`);
    console.log("| category        | risky | benign |  TP |  FN |  FP |  TN | precision | recall |   FPR | category ok | severity ok |");
    console.log("|-----------------|------:|-------:|----:|----:|----:|----:|----------:|-------:|------:|------------:|------------:|");
    for (const [name, m] of Object.entries(report[split]!)) console.log(row(name, m).replace(/\| (\s*[\d.]+%|\s*n\/a) \| (\s*[\d.]+%|\s*n\/a) \| (\s*[\d.]+%|\s*n\/a) \| (\s*[\d.]+%|\s*n\/a) \| (\s*[\d.]+%|\s*n\/a) \|$/, (_m, a, b, c, d, e) => `|    ${a} | ${b} | ${c} |      ${d} |      ${e} |`));
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
    const weak = inSplit.filter((o) => o.case.label === "risk" && o.result.flagged && (o.result.category !== o.case.category || rank(o.result.severity!) < rank(o.case.minSeverity!)));
    console.log(`\n${split}: ${misses.length} misses`);
    for (const o of misses) console.log(describe(o));
    console.log(`\n${split}: ${weak.length} flagged with another category or a lower severity`);
    for (const o of weak) console.log(describe(o));
  }
}

function rank(severity: string): number {
  return ["low", "medium", "high", "critical"].indexOf(severity);
}
