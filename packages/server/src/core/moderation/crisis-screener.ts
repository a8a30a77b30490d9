import type { ScreenInput, ScreenMatch, Screener, ScreenResult } from "../../ports/screener.js";
import { evaluateHit, type RuleHit } from "./context.js";
import { compileCrisisRules, type CompiledRules } from "./crisis-rules.js";
import { tokenize, type TokenizedText } from "./normalize.js";
import { severityRank, shiftSeverity } from "./severity.js";
import builtinRules from "./rules/crisis-rules.v1.json" with { type: "json" };

export interface CrisisScreenerOptions {
  /**
   * A parsed rules file (see docs/crisis-screening.md); the built-in
   * `crisis-rules.v1.json` when absent. Validated here: a bad file throws
   * {@link CrisisRulesError} at construction, never at screening time.
   */
  rules?: unknown;
  /** Low-mood threshold for apps whose mood scale is not the rules file's 1..5. */
  moodLowAtOrBelow?: number;
}

/** What the screener saw in one text: for tests, the evaluation script and rule authors. */
export interface Explanation {
  /** Each token's candidate spellings. */
  tokens: string[][];
  /** Every rule match, suppressed ones included, with the modifiers that acted. */
  hits: RuleHit[];
}

/**
 * The built-in crisis screener: English rules from a versioned data file,
 * matched over normalized words, with context (negation, idioms, reported
 * speech, history) read by the file's modifiers. The code knows no category,
 * word or phrase; all of that lives in the rules file.
 *
 * @example
 * const screener = new CrisisScreener();
 * const result = await screener.screen({ tenantId: "acme", userId: "u1", kind: "message", text: "I want to die" });
 * // { flagged: true, severity: "high", category: "suicide", matches: [...], rulesVersion: "1.0.0" }
 */
export class CrisisScreener implements Screener {
  private readonly rules: CompiledRules;
  private readonly moodLowAtOrBelow: number;

  /** @throws CrisisRulesError when `options.rules` does not validate. */
  constructor(options: CrisisScreenerOptions = {}) {
    this.rules = compileCrisisRules(options.rules ?? builtinRules);
    this.moodLowAtOrBelow = options.moodLowAtOrBelow ?? this.rules.mood.lowAtOrBelow;
  }

  get rulesVersion(): string {
    return this.rules.version;
  }

  async screen(input: ScreenInput): Promise<ScreenResult> {
    try {
      return this.screenNow(input);
    } catch {
      // Unreachable by design; if a bug ever gets here, the message must still go
      // through, and the result says the built-in screener gave no answer.
      return { flagged: false, matches: [], rulesVersion: this.rules.version, unavailable: ["builtin"] };
    }
  }

  explain(text: string): Explanation {
    const tokenized = tokenize(text, this.rules.tables, this.rules.limits.maxInputChars);
    return { tokens: tokenized.tokens.map((t) => t.forms), hits: this.hits(tokenized) };
  }

  private screenNow(input: ScreenInput): ScreenResult {
    const text = typeof input?.text === "string" ? input.text : "";
    const score = input?.kind === "mood" ? input.moodScore : undefined;
    const lowMood = typeof score === "number" && Number.isFinite(score) && score <= this.moodLowAtOrBelow;
    const { rules } = this;
    const tokenized = tokenize(text, rules.tables, rules.limits.maxInputChars);
    const hits = mostSevereFirst(this.hits(tokenized).filter((hit) => !hit.suppressedBy), rules);
    const matches: ScreenMatch[] = hits.slice(0, rules.limits.maxMatches).map((hit) => ({
      ruleId: hit.rule.id,
      category: hit.rule.category,
      severity: lowMood ? shiftSeverity(hit.severity, rules.mood.escalateBy) : hit.severity,
      excerpt: excerpt(text, tokenized, hit, rules.limits.excerptChars),
    }));
    const mood = lowMood ? { lowMood: true } : {};
    const top = matches[0];
    if (top) return { flagged: true, severity: top.severity, category: top.category, matches, rulesVersion: rules.version, ...mood };
    if (lowMood && rules.mood.aloneSeverity) return { flagged: true, severity: rules.mood.aloneSeverity, matches, rulesVersion: rules.version, ...mood };
    return { flagged: false, matches, rulesVersion: rules.version, ...mood };
  }

  /** Every match of every rule, each evaluated in context; overlapping matches of one rule count once. */
  private hits(text: TokenizedText): RuleHit[] {
    const scan = this.rules.index.scan(text);
    const hits: RuleHit[] = [];
    for (const rule of this.rules.rules) {
      // Most messages match no rule: skip those rules without copying an empty list for each.
      const found = scan.get(rule);
      if (found === undefined) continue;
      const spans = found.length > 1 ? [...found].sort((a, b) => a.start - b.start) : found;
      let lastEnd = -1;
      for (const span of spans) {
        if (span.start < lastEnd) continue;
        lastEnd = span.end;
        hits.push(evaluateHit(rule, span, this.rules.modifiers, scan, text));
      }
    }
    return hits;
  }
}

/**
 * Sorts by severity, then the file's category priority, then position, and
 * drops a match overlapping a more severe one of the same category (the weaker
 * reading of the same words).
 */
function mostSevereFirst(hits: RuleHit[], rules: CompiledRules): RuleHit[] {
  const priority = (hit: RuleHit) => rules.categoryPriority.indexOf(hit.rule.category);
  const sorted = [...hits].sort(
    (a, b) => severityRank(b.severity) - severityRank(a.severity) || priority(a) - priority(b) || a.span.start - b.span.start,
  );
  const kept: RuleHit[] = [];
  for (const hit of sorted) {
    const weaker = kept.some((k) => k.rule.category === hit.rule.category && k.span.start < hit.span.end && hit.span.start < k.span.end);
    if (!weaker) kept.push(hit);
  }
  return kept;
}

/** The matched words as written, whitespace squeezed, cut to `max` characters. */
function excerpt(original: string, text: TokenizedText, hit: RuleHit, max: number): string {
  const from = text.tokens[hit.span.start]!.start;
  const to = text.tokens[hit.span.end - 1]!.end;
  const words = original.slice(from, to).replace(/\s+/g, " ");
  return words.length <= max ? words : `${words.slice(0, max - 1)}…`;
}
