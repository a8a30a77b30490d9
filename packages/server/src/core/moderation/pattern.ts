import type { Token, TokenizedText } from "./normalize.js";

/**
 * Rule patterns are word sequences over normalized tokens, not regular
 * expressions: a rules file must never be able to cause catastrophic
 * backtracking, and word sequences let obfuscated spellings (`k1ll`, `kiiill`)
 * match through the token's alternative forms.
 *
 * Syntax, elements separated by spaces:
 * - `kill` a word; `kill|end|unalive` one of several words;
 * - `suicid*` a word starting with the stem (at least 3 letters before `*`);
 * - `<SELF>` one of the phrases of a term list (itself written in this syntax);
 * - `{a handful of|too many}` one of several phrases, inline;
 * - `?` after an element makes it optional (`really?`, `<ADV>?`, `{at once}?`);
 * - `~2` up to two arbitrary words (1-4), never first or last;
 * - `$` the end of the sentence: last element, or a whole alternative of a group
 *   (`cut {again|tonight|$}` matches `I want to cut`, not `I want to cut the cake`).
 */
export type PatternElement =
  | { kind: "end" }
  | { kind: "words"; words: ReadonlySet<string>; stems: readonly string[]; optional: boolean }
  | {
      kind: "term";
      name: string;
      alternatives: readonly PatternElement[][];
      firstKeys: ReadonlySet<string>;
      optional: boolean;
      /** One alternative is `$`: the group also matches at the end of the sentence. */
      orEnd: boolean;
    }
  | { kind: "gap"; max: number };

/** A pattern the rules file spelled wrongly; `message` says what and where. */
export class PatternError extends Error {}

const WORD = /^[a-z0-9]+$/;
const STEM = /^[a-z0-9]{3,}\*$/;
const TERM = /^<([A-Z][A-Z0-9_]*)>$/;
const GAP = /^~([1-4])$/;

/** Index key of a word: its first three letters (the whole word when shorter). */
export function indexKey(word: string): string {
  return word.length > 3 ? word.slice(0, 3) : word;
}

/** Compiles term lists on demand, once each, refusing unknown names and cycles. */
export class TermTable {
  private readonly compiled = new Map<string, PatternElement[][]>();
  private readonly compiling = new Set<string>();

  constructor(private readonly sources: Readonly<Record<string, readonly string[]>>) {}

  alternatives(name: string): PatternElement[][] {
    const done = this.compiled.get(name);
    if (done) return done;
    const phrases = this.sources[name];
    if (!phrases) throw new PatternError(`unknown term <${name}>`);
    if (this.compiling.has(name)) throw new PatternError(`term <${name}> refers to itself`);
    this.compiling.add(name);
    try {
      const alternatives = phrases.map((phrase) => compilePattern(phrase, this, { allowGaps: false }));
      this.compiled.set(name, alternatives);
      return alternatives;
    } finally {
      this.compiling.delete(name);
    }
  }
}

/** Splits on `separator` outside braces; throws on unbalanced braces. */
function splitTopLevel(source: string, separator: (c: string) => boolean): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const c of source) {
    if (c === "{") depth++;
    if (c === "}") depth--;
    if (depth < 0) throw new PatternError(`"${source}": unbalanced braces`);
    if (depth === 0 && separator(c)) {
      parts.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  if (depth !== 0) throw new PatternError(`"${source}": unbalanced braces`);
  parts.push(current);
  return parts;
}

/** Parses one pattern; throws {@link PatternError} naming the offending element. */
export function compilePattern(source: string, terms: TermTable, options: { allowGaps: boolean } = { allowGaps: true }): PatternElement[] {
  const parts = splitTopLevel(source.trim(), (c) => /\s/.test(c)).filter(Boolean);
  if (parts.length === 0) throw new PatternError("empty pattern");
  const elements = parts.map((part) => compileElement(part, terms, options.allowGaps));
  const first = elements[0]!;
  const last = elements[elements.length - 1]!;
  if (first.kind === "gap" || last.kind === "gap") throw new PatternError(`"${source}": a gap cannot start or end a pattern`);
  if (first.kind === "end" || elements.slice(0, -1).some((e) => e.kind === "end")) throw new PatternError(`"${source}": $ can only end a pattern`);
  if (first.optional) throw new PatternError(`"${source}": the first element cannot be optional`);
  return elements;
}

function compileElement(part: string, terms: TermTable, allowGaps: boolean): PatternElement {
  if (part === "$") return { kind: "end" };
  const gap = GAP.exec(part);
  if (gap) {
    if (!allowGaps) throw new PatternError(`"${part}": gaps are not allowed in term lists`);
    return { kind: "gap", max: Number(gap[1]) };
  }
  const optional = part.endsWith("?");
  const body = optional ? part.slice(0, -1) : part;
  if (body.startsWith("{") && body.endsWith("}")) {
    const phrases = splitTopLevel(body.slice(1, -1), (c) => c === "|").map((p) => p.trim());
    if (phrases.some((p) => p === "")) throw new PatternError(`"${part}": empty alternative`);
    const alternatives = phrases.filter((p) => p !== "$").map((phrase) => compilePattern(phrase, terms, { allowGaps: false }));
    const firstKeys = new Set(alternatives.flatMap((alt) => [...sequenceFirstKeys(alt)]));
    return { kind: "term", name: body, alternatives, firstKeys, optional, orEnd: phrases.includes("$") };
  }
  const term = TERM.exec(body);
  if (term) {
    const alternatives = terms.alternatives(term[1]!);
    const firstKeys = new Set(alternatives.flatMap((alt) => [...sequenceFirstKeys(alt)]));
    return { kind: "term", name: term[1]!, alternatives, firstKeys, optional, orEnd: false };
  }
  const words = new Set<string>();
  const stems: string[] = [];
  for (const option of body.split("|")) {
    if (WORD.test(option)) words.add(option);
    else if (STEM.test(option)) stems.push(option.slice(0, -1));
    else throw new PatternError(`"${option}" is not a normalized word (a-z, 0-9; write "do not", not "don't"), a stem (3+ letters then *) or a <TERM>`);
  }
  return { kind: "words", words, stems, optional };
}

/** Index keys of the tokens a sequence can start with. */
export function sequenceFirstKeys(elements: readonly PatternElement[]): Set<string> {
  const keys = new Set<string>();
  for (const element of elements) {
    if (element.kind === "gap" || element.kind === "end") return keys;
    if (element.kind === "words") {
      for (const word of element.words) keys.add(indexKey(word));
      for (const stem of element.stems) keys.add(indexKey(stem));
    } else {
      for (const key of element.firstKeys) keys.add(key);
    }
    if (!element.optional) return keys;
  }
  return keys;
}

function tokenMatchesWords(token: Token, element: { words: ReadonlySet<string>; stems: readonly string[] }): boolean {
  for (const form of token.forms) {
    if (element.words.has(form)) return true;
    for (const stem of element.stems) if (form.startsWith(stem)) return true;
  }
  return false;
}

function tokenHasKey(token: Token, keys: ReadonlySet<string>): boolean {
  for (const form of token.forms) if (keys.has(indexKey(form))) return true;
  return false;
}

/**
 * End positions (exclusive token indexes) at which `elements` can match when
 * starting at `start`, never reaching `limit` (the end of the sentence). A set
 * simulation rather than backtracking: the work is bounded by pattern size
 * times the few positions alive at each step.
 */
export function matchEnds(elements: readonly PatternElement[], tokens: readonly Token[], start: number, limit: number): Set<number> {
  let positions = new Set<number>([start]);
  for (const element of elements) {
    const next = new Set<number>();
    for (const at of positions) {
      if (element.kind === "gap") {
        for (let k = 0; k <= element.max && at + k <= limit; k++) next.add(at + k);
        continue;
      }
      if (element.kind === "end") {
        if (at === limit) next.add(at);
        continue;
      }
      if (element.optional) next.add(at);
      if (at >= limit) {
        if (element.kind === "term" && element.orEnd) next.add(at);
        continue;
      }
      const token = tokens[at]!;
      if (element.kind === "words") {
        if (tokenMatchesWords(token, element)) next.add(at + 1);
      } else if (tokenHasKey(token, element.firstKeys)) {
        for (const alternative of element.alternatives) for (const end of matchEnds(alternative, tokens, at, limit)) next.add(end);
      }
    }
    if (next.size === 0) return next;
    positions = next;
  }
  return positions;
}

/** Token span `[start, end)` of one pattern match. */
export interface Span {
  start: number;
  end: number;
}

/**
 * All patterns of a rule set, indexed by the key of the word they start with,
 * so a message is scanned once and only plausible patterns are tried at each
 * token.
 */
export class PatternIndex<Owner> {
  private readonly byKey = new Map<string, { elements: PatternElement[]; owner: Owner }[]>();

  add(elements: PatternElement[], owner: Owner): void {
    const entry = { elements, owner };
    for (const key of sequenceFirstKeys(elements)) {
      const list = this.byKey.get(key);
      if (list) list.push(entry);
      else this.byKey.set(key, [entry]);
    }
  }

  /** Every match of every pattern, shortest span per start, grouped by owner. */
  scan(text: TokenizedText): Map<Owner, Span[]> {
    const found = new Map<Owner, Span[]>();
    const { tokens, sentenceEnd } = text;
    for (let i = 0; i < tokens.length; i++) {
      const { forms } = tokens[i]!;
      // One key's list holds each entry once, so only a token of several forms can meet an entry twice.
      // Most tokens have one form: no Set for them (this runs for every word of every chat message).
      const tried = forms.length > 1 ? new Set<object>() : undefined;
      for (const form of forms) {
        const entries = this.byKey.get(indexKey(form));
        if (entries === undefined) continue;
        for (const entry of entries) {
          if (tried) {
            if (tried.has(entry)) continue;
            tried.add(entry);
          }
          const ends = matchEnds(entry.elements, tokens, i, sentenceEnd[i]!);
          if (ends.size === 0) continue;
          const span = { start: i, end: Math.min(...ends) };
          const list = found.get(entry.owner);
          if (list) list.push(span);
          else found.set(entry.owner, [span]);
        }
      }
    }
    return found;
  }
}
