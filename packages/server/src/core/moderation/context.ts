import type { ScreenSeverity } from "../../ports/screener.js";
import type { CompiledModifier, CompiledRule } from "./crisis-rules.js";
import type { TokenizedText } from "./normalize.js";
import type { Span } from "./pattern.js";
import { maxSeverity, minSeverity, shiftSeverity } from "./severity.js";

/** A rule match after its context was read. */
export interface RuleHit {
  rule: CompiledRule;
  span: Span;
  severity: ScreenSeverity;
  /** Ids of the modifiers that changed the severity, in order. */
  applied: string[];
  /** Id of the modifier that dropped the match (negation, idiom...), if one did. */
  suppressedBy?: string;
}

/** Pattern matches of one message, by owner (rule, or a modifier's cue/except/unless key). */
export type ScanResult = Map<object, Span[]>;

function appliesTo(modifier: CompiledModifier, rule: CompiledRule): boolean {
  if (modifier.categories && !modifier.categories.has(rule.category)) return false;
  if (modifier.tags && ![...modifier.tags].some((tag) => rule.tags.has(tag))) return false;
  if (modifier.exceptTags && [...modifier.exceptTags].some((tag) => rule.tags.has(tag))) return false;
  return true;
}

function overlaps(a: Span, b: Span): boolean {
  return a.start < b.end && b.start < a.end;
}

/**
 * True when a stop word lies strictly between the earlier span (ending before
 * token `from`) and the later one (starting at token `to`), or, if the modifier
 * says so, a clause break separates them.
 */
function scopeBroken(modifier: CompiledModifier, text: TokenizedText, from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    if (text.tokens[k]!.forms.some((form) => modifier.stopWords.has(form))) return true;
  }
  if (!modifier.stopAtClause) return false;
  for (let k = from; k <= to; k++) if (text.tokens[k]?.clauseBreak) return true;
  return false;
}

function cueBefore(modifier: CompiledModifier, text: TokenizedText, cue: Span, hit: Span): boolean {
  if (cue.end > hit.start || hit.start - cue.end > modifier.window) return false;
  if (text.tokens[cue.start]!.sentence !== text.tokens[hit.start]!.sentence) return false;
  // A match that opens with a stop word ("... not here, I'd be gone") starts a clause of its own.
  if (text.tokens[hit.start]!.forms.some((form) => modifier.stopWords.has(form))) return false;
  return !scopeBroken(modifier, text, cue.end, hit.start);
}

function cueAfter(modifier: CompiledModifier, text: TokenizedText, cue: Span, hit: Span): boolean {
  if (cue.start < hit.end || cue.start - hit.end > modifier.window) return false;
  if (text.tokens[cue.start]!.sentence !== text.tokens[hit.start]!.sentence) return false;
  return !scopeBroken(modifier, text, hit.end, cue.start);
}

function placed(modifier: CompiledModifier, text: TokenizedText, cue: Span, hit: Span): boolean {
  switch (modifier.where) {
    case "before":
      return cueBefore(modifier, text, cue, hit);
    case "after":
      return cueAfter(modifier, text, cue, hit);
    case "around":
      return cueBefore(modifier, text, cue, hit) || cueAfter(modifier, text, cue, hit);
    case "overlap":
      return overlaps(cue, hit);
    case "sentence":
      return text.tokens[cue.start]!.sentence === text.tokens[hit.start]!.sentence;
    case "message":
      return true;
  }
}

function triggered(modifier: CompiledModifier, hit: Span, scan: ScanResult, text: TokenizedText): boolean {
  const exceptions = scan.get(modifier.keys.except) ?? [];
  const cues = (scan.get(modifier.keys.cue) ?? []).filter((cue) => !exceptions.some((e) => overlaps(e, cue)));
  if (!cues.some((cue) => placed(modifier, text, cue, hit))) return false;
  const cancels = scan.get(modifier.keys.unless) ?? [];
  const sentence = text.tokens[hit.start]!.sentence;
  return !cancels.some((u) => modifier.unlessWhere === "message" || text.tokens[u.start]!.sentence === sentence);
}

/**
 * Reads the context of one rule match: every modifier that applies to the rule
 * and whose cue is placed as it requires acts, in file order. A suppression
 * ends the walk; shifts, caps and raises accumulate.
 */
export function evaluateHit(rule: CompiledRule, span: Span, modifiers: readonly CompiledModifier[], scan: ScanResult, text: TokenizedText): RuleHit {
  const hit: RuleHit = { rule, span, severity: rule.severity, applied: [] };
  for (const modifier of modifiers) {
    if (!appliesTo(modifier, rule) || !triggered(modifier, span, scan, text)) continue;
    const effect = modifier.effect;
    if (effect === "suppress") {
      hit.suppressedBy = modifier.id;
      return hit;
    }
    if ("shift" in effect) hit.severity = shiftSeverity(hit.severity, effect.shift, effect.floor);
    else if ("cap" in effect) hit.severity = minSeverity(hit.severity, effect.cap);
    else hit.severity = maxSeverity(hit.severity, effect.raiseTo);
    hit.applied.push(modifier.id);
  }
  return hit;
}
