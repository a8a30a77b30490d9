import { z } from "zod";
import { SCREEN_CATEGORIES, SCREEN_SEVERITIES, type ScreenCategory, type Screener, type ScreenResult } from "../../ports/screener.js";
import { severityRank } from "./severity.js";

/**
 * One labelled phrase. Risky phrases carry the category and the least severity
 * a good screener should give; benign ones carry the category they look like
 * (`this bug is killing me` looks like `suicide`), so false positives can be
 * counted per category.
 */
export const evalCaseSchema = z
  .strictObject({
    id: z.string().min(1),
    split: z.enum(["dev", "holdout"]),
    label: z.enum(["risk", "benign"]),
    category: z.enum(SCREEN_CATEGORIES),
    minSeverity: z.enum(SCREEN_SEVERITIES).optional(),
    tags: z.array(z.string()).default([]),
    text: z.string(),
    /** Screened as a mood update with this score when present. */
    mood: z.number().optional(),
  })
  .refine((c) => (c.label === "risk") === (c.minSeverity !== undefined), "risky cases need minSeverity; benign cases have none");

export type EvalCase = z.infer<typeof evalCaseSchema>;

/** Parses a JSONL evaluation set; throws naming the first bad line. */
export function parseEvalSet(jsonl: string): EvalCase[] {
  const cases: EvalCase[] = [];
  const ids = new Set<string>();
  jsonl.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const parsed = evalCaseSchema.safeParse(JSON.parse(line));
    if (!parsed.success) throw new Error(`line ${i + 1}: ${parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`).join("; ")}`);
    if (ids.has(parsed.data.id)) throw new Error(`line ${i + 1}: duplicate id ${parsed.data.id}`);
    ids.add(parsed.data.id);
    cases.push(parsed.data);
  });
  return cases;
}

export interface CaseOutcome {
  case: EvalCase;
  result: ScreenResult;
}

/** Screens every case, one at a time (a webhook screener should not be flooded). */
export async function runEvaluation(screener: Screener, cases: readonly EvalCase[]): Promise<CaseOutcome[]> {
  const outcomes: CaseOutcome[] = [];
  for (const c of cases) {
    const kind = c.mood === undefined ? "message" : "mood";
    const result = await screener.screen({ tenantId: "eval", userId: c.id, text: c.text, kind, ...(c.mood !== undefined && { moodScore: c.mood }) });
    outcomes.push({ case: c, result });
  }
  return outcomes;
}

export interface Metrics {
  risky: number;
  benign: number;
  /** Risky and flagged. */
  tp: number;
  /** Risky, not flagged. */
  fn: number;
  /** Benign look-alike, flagged. */
  fp: number;
  /** Benign look-alike, not flagged. */
  tn: number;
  /** tp / (tp + fp); null without any flag. */
  precision: number | null;
  /** tp / (tp + fn); null without risky cases. */
  recall: number | null;
  /** fp / (fp + tn); null without benign cases. */
  falsePositiveRate: number | null;
  /** Share of true positives whose top category is the labelled one. */
  categoryAgreement: number | null;
  /** Share of true positives flagged at least at the labelled severity. */
  severityMet: number | null;
}

const ratio = (num: number, den: number) => (den === 0 ? null : num / den);

function metrics(outcomes: readonly CaseOutcome[]): Metrics {
  let tp = 0, fn = 0, fp = 0, tn = 0, sameCategory = 0, severe = 0;
  for (const { case: c, result } of outcomes) {
    if (c.label === "benign") {
      if (result.flagged) fp++;
      else tn++;
      continue;
    }
    if (!result.flagged) {
      fn++;
      continue;
    }
    tp++;
    if (result.category === c.category) sameCategory++;
    if (result.severity && severityRank(result.severity) >= severityRank(c.minSeverity!)) severe++;
  }
  return {
    risky: tp + fn,
    benign: fp + tn,
    tp, fn, fp, tn,
    precision: ratio(tp, tp + fp),
    recall: ratio(tp, tp + fn),
    falsePositiveRate: ratio(fp, fp + tn),
    categoryAgreement: ratio(sameCategory, tp),
    severityMet: ratio(severe, tp),
  };
}

/**
 * Metrics per labelled category (risky phrases of the category against its
 * benign look-alikes) and overall.
 */
export function summarize(outcomes: readonly CaseOutcome[]): Record<ScreenCategory | "overall", Metrics> {
  const byCategory = Object.fromEntries(SCREEN_CATEGORIES.map((category) => [category, metrics(outcomes.filter((o) => o.case.category === category))]));
  return { ...(byCategory as Record<ScreenCategory, Metrics>), overall: metrics(outcomes) };
}

/** True when the outcome is a miss: a risky phrase not flagged, or a benign one flagged. */
export function isError(outcome: CaseOutcome): boolean {
  return outcome.case.label === "risk" ? !outcome.result.flagged : outcome.result.flagged;
}
