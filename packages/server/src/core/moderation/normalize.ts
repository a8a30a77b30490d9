/**
 * Text normalization for the crisis screener: from what people type
 * (`I'm gonna k1ll myseeeelf`, `s u i c i d e`, `ｋｉｌｌ`) to tokens with a few
 * candidate spellings each, which the patterns then match. Every step is a single
 * pass over the (capped) text, so the cost is linear in its length.
 */

/** One word of the message, with every spelling it may stand for. */
export interface Token {
  /** Candidate normalized spellings (`k1ll` -> `kill`, `kiii` -> `ki`, `kii`). */
  forms: string[];
  /** Offsets in the original text, for excerpts. */
  start: number;
  end: number;
  sentence: number;
  /** A comma, colon, dash or ellipsis separates this token from the previous one. */
  clauseBreak: boolean;
}

export interface TokenizedText {
  tokens: Token[];
  /** For each token, the index just past the last token of its sentence. */
  sentenceEnd: number[];
}

/** Language knowledge the normalizer needs; all of it comes from the rules file. */
export interface NormalizerTables {
  /** Symbol or digit -> letters it can stand for (`1` -> `i`, `l`). */
  leet: ReadonlyMap<string, readonly string[]>;
  /** Look-alike letters of other scripts, curly quotes -> their plain forms. */
  homoglyphs: ReadonlyMap<string, string>;
  /** Whole contracted words (`won't`). */
  contractionWords: ReadonlyMap<string, string>;
  /** Contraction endings (`n't`, `'m`), longest first. */
  contractionSuffixes: readonly (readonly [string, string])[];
  /** Misspellings, abbreviations and slang -> canonical word(s). */
  spellings: ReadonlyMap<string, string>;
  /** Words spaced-out letters may be split into. */
  vocabulary: ReadonlySet<string>;
  /** Stems (`suicid`) that also count as words for splitting. */
  stems: readonly string[];
  /** Longest piece {@link vocabulary} and {@link stems} can produce. */
  maxWordLength: number;
}

const IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;
const MARKS = /\p{M}/gu;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
const LETTER = /\p{L}/u;
/** Number with a short unit (`30mg`, `2nd`, `5pm`): not leetspeak. */
const NUMBER_WITH_UNIT = /^\d+[a-z]{1,3}$/;
/** Spaced-out letters are split into words up to this run length; longer runs are left alone. */
const MAX_SPACED_RUN = 64;
/** Separators allowed between spaced-out letters (`k i l l`, `k.i.l.l`, `k-i-l-l`). */
const LETTER_SEPARATORS = new Set([" ", ".", "-", "_", "*", "~", "/", ",", "+"]);
const MAX_LEET_VARIANTS = 8;
/** A stem counts as a word with up to this many more letters (`kill` + `ing`), no more: `killmyself` must split. */
export const STEM_SUFFIX_MAX = 3;

interface Folded {
  text: string;
  /** Original start and end offset of each folded character. */
  from: number[];
  to: number[];
}

/** Lowercase, compatibility-decomposed, accents and invisible characters removed, look-alikes mapped. */
function fold(input: string, base: number, homoglyphs: ReadonlyMap<string, string>): Folded {
  let text = "";
  const from: number[] = [];
  const to: number[] = [];
  let offset = base;
  for (const char of input) {
    const at = offset;
    offset += char.length;
    if (char.charCodeAt(0) >= 128 && IGNORABLE.test(char)) continue;
    // Mapped before decomposition too: NFKD turns some look-alikes (an acute
    // accent used as an apostrophe) into a space plus a mark.
    const direct = homoglyphs.get(char);
    const plain = direct ?? (char.charCodeAt(0) < 128 ? char.toLowerCase() : char.normalize("NFKD").toLowerCase().replace(MARKS, ""));
    for (const c of plain) {
      const mapped = homoglyphs.get(c) ?? c;
      text += mapped;
      for (let k = 0; k < mapped.length; k++) {
        from.push(at);
        to.push(offset);
      }
    }
  }
  return { text, from, to };
}

interface RawToken {
  text: string;
  start: number;
  end: number;
  /** Separator characters before the token. */
  gap: string;
}

function isAlnum(c: string | undefined): boolean {
  if (c === undefined) return false;
  if ((c >= "a" && c <= "z") || (c >= "0" && c <= "9")) return true;
  return c.charCodeAt(0) >= 128 && LETTER_OR_DIGIT.test(c);
}

/** Words are letters and digits, plus leet symbols (`$uicide`, `k!ll`) and apostrophes inside a word. */
function scan(text: string, leet: ReadonlyMap<string, readonly string[]>): RawToken[] {
  const tokens: RawToken[] = [];
  let gap = "";
  let current = "";
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const next = text[i + 1];
    const inWord = isAlnum(c) || (leet.has(c) && isAlnum(next)) || (c === "'" && current !== "" && isAlnum(next));
    if (inWord) {
      if (current === "") start = i;
      current += c;
      continue;
    }
    if (current !== "") {
      tokens.push({ text: current, start, end: i, gap });
      current = "";
      gap = "";
    }
    gap += c;
  }
  if (current !== "") tokens.push({ text: current, start, end: text.length, gap });
  return tokens;
}

/** One word after joining spaced-out letters; `gap` is empty inside a joined run. */
type Piece = RawToken;

/** The spellings a single character can stand for. */
function charOptions(c: string, leet: ReadonlyMap<string, readonly string[]>): readonly string[] {
  return leet.get(c) ?? [c];
}

function isWord(word: string, tables: NormalizerTables): boolean {
  if (tables.vocabulary.has(word)) return true;
  for (const stem of tables.stems) if (word.startsWith(stem) && word.length - stem.length <= STEM_SUFFIX_MAX) return true;
  return false;
}

/** Splits `killmyself` into known words with the fewest pieces; null when it cannot. */
function wordBreak(text: string, tables: NormalizerTables, maxWord: number): [number, number][] | null {
  const best: number[] = new Array(text.length + 1).fill(Infinity);
  const back: number[] = new Array(text.length + 1).fill(-1);
  best[0] = 0;
  for (let end = 1; end <= text.length; end++) {
    for (let begin = Math.max(0, end - maxWord); begin < end; begin++) {
      if (best[begin]! + 1 >= best[end]!) continue;
      if (isWord(text.slice(begin, end), tables)) {
        best[end] = best[begin]! + 1;
        back[end] = begin;
      }
    }
  }
  if (best[text.length] === Infinity) return null;
  const spans: [number, number][] = [];
  for (let end = text.length; end > 0; end = back[end]!) spans.unshift([back[end]!, end]);
  return spans;
}

/**
 * Joins runs of three or more single characters separated by one space or dot
 * (`k i l l`, `k.i.l.l`) and splits them into known words. A run that does not
 * split into known words is left as it was.
 */
function joinSpacedLetters(raw: RawToken[], tables: NormalizerTables, maxWord: number): Piece[] {
  const pieces: Piece[] = [];
  let i = 0;
  while (i < raw.length) {
    let j = i;
    while (j + 1 < raw.length && raw[j]!.text.length === 1 && raw[j + 1]!.text.length === 1 && raw[j + 1]!.gap.length === 1 && LETTER_SEPARATORS.has(raw[j + 1]!.gap)) j++;
    const run = raw.slice(i, j + 1);
    const letters = run.filter((t) => LETTER.test(t.text)).length;
    // Two letters only count when wide gaps set them apart as a word (`w a n t  t o  d i e`).
    const setApart = run.length === 2 && isWideGap(raw[i]!.gap, i === 0) && isWideGap(raw[j + 1]?.gap, j + 1 === raw.length);
    const split = (run.length >= 3 || setApart) && run.length <= MAX_SPACED_RUN && letters >= 2 ? splitRun(run, tables, maxWord) : null;
    pieces.push(...(split ?? run));
    i = j + 1;
  }
  return pieces;
}

function isWideGap(gap: string | undefined, edge: boolean): boolean {
  return edge || (gap !== undefined && gap.length >= 2 && gap.trim() === "");
}

function splitRun(run: RawToken[], tables: NormalizerTables, maxWord: number): Piece[] | null {
  const widest = Math.max(...run.map((t) => charOptions(t.text, tables.leet).length));
  for (let variant = 0; variant < widest; variant++) {
    const text = run.map((t) => {
      const options = charOptions(t.text, tables.leet);
      return options[Math.min(variant, options.length - 1)]!;
    }).join("");
    const spans = wordBreak(text, tables, maxWord);
    if (!spans) continue;
    return spans.map(([begin, end], k) => ({ text: text.slice(begin, end), start: run[begin]!.start, end: run[end - 1]!.end, gap: k === 0 ? run[0]!.gap : "" }));
  }
  return null;
}

/** `don't` -> `do not`; `john's` -> `johns`. */
function expandContractions(word: string, tables: NormalizerTables): string[] {
  if (!word.includes("'")) return [word];
  const whole = tables.contractionWords.get(word);
  if (whole) return whole.split(" ");
  for (const [suffix, expansion] of tables.contractionSuffixes) {
    if (word.endsWith(suffix) && word.length > suffix.length) return [word.slice(0, -suffix.length).replaceAll("'", ""), ...expansion.split(" ")];
  }
  return [word.replaceAll("'", "")];
}

/** `k1ll` -> `kill`, `klll`: each leet character takes each of its meanings in turn (bounded). */
function leetVariants(word: string, leet: ReadonlyMap<string, readonly string[]>): string[] {
  if (NUMBER_WITH_UNIT.test(word) || !LETTER.test(word)) return [word];
  // Most words hold no leet character: answer them without building the variants char by char.
  if (!hasLeet(word, leet)) return [word];
  let variants = [""];
  let changed = false;
  for (const c of word) {
    const options = leet.get(c);
    if (!options) {
      variants = variants.map((v) => v + c);
      continue;
    }
    changed = true;
    const next: string[] = [];
    for (const v of variants) for (const option of options) if (next.length < MAX_LEET_VARIANTS) next.push(v + option);
    variants = next;
  }
  return changed ? [word, ...variants] : [word];
}

function hasLeet(word: string, leet: ReadonlyMap<string, readonly string[]>): boolean {
  for (const c of word) if (leet.has(c)) return true;
  return false;
}

/**
 * Runs of 3+ equal letters collapsed to one and to two (`sooo` -> `so`, `soo`),
 * and a doubled last letter to one (`diee` -> `die`): stretched words in chat
 * mostly stretch their end. Extra forms only; the word as typed stays.
 */
function collapseRepeats(word: string): string[] {
  const forms = [word];
  if (/(.)\1\1/.test(word)) forms.push(word.replace(/(.)\1{2,}/g, "$1"), word.replace(/(.)\1{2,}/g, "$1$1"));
  // Over the forms so far only, not the ones this loop adds.
  const count = forms.length;
  for (let k = 0; k < count; k++) {
    const form = forms[k]!;
    if (form.length > 3 && form.at(-1) === form.at(-2)) forms.push(form.slice(0, -1));
  }
  return forms;
}

/** Forms of one word, or several words when a spelling expands (`kms` -> `kill myself`). */
function wordForms(word: string, tables: NormalizerTables): string[][] {
  const collapsed = leetVariants(word, tables.leet).map((variant) => collapseRepeats(variant));
  // The common word (no leet, nothing stretched) has itself as its only form; the same
  // answer as below, without the Set and its copies (this runs for every word of every message).
  if (collapsed.length === 1 && collapsed[0]!.length === 1) {
    const spelled = tables.spellings.get(word);
    if (spelled === undefined || spelled === word) return [[word]];
    return spelled.includes(" ") ? spelled.split(" ").map((w) => [w]) : [[word, spelled]];
  }
  const forms = new Set<string>(collapsed.flat());
  for (const form of [...forms]) {
    const spelled = tables.spellings.get(form);
    if (spelled === undefined) continue;
    if (spelled.includes(" ")) return spelled.split(" ").map((w) => [w]);
    forms.add(spelled);
  }
  return [[...forms]];
}

const ELLIPSIS = /\.{2,}/g;
const SENTENCE_BREAK = /[.!?;\n\r]/;
const CLAUSE_BREAK = /[,:()[\]\u2013\u2014]|\s-\s|\.{2,}/;

/**
 * The index `count` code points after `begin` (or the text's end). The cap
 * counts characters as the body limit does (code points: an emoji is one), so
 * a body of 8,000 emoji-rich characters is screened whole; counted in UTF-16
 * units, its second half went unscreened.
 */
function afterCodePoints(text: string, begin: number, count: number): number {
  let i = begin;
  for (let n = 0; n < count && i < text.length; n++) {
    const code = text.charCodeAt(i);
    const paired = code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    i += paired ? 2 : 1;
  }
  return i;
}

/**
 * Tokenizes at most `maxChars` characters (code points) of `input`, counted from its first
 * non-blank character (so a chat body, whose limit applies after trimming, is
 * always screened whole).
 *
 * @example
 * tokenize("I w4nna  k i l l  myseeelf", tables, 8000).tokens.map((t) => t.forms[0])
 * // ["i", "want", "to", "kill", "myseeelf"] (and "myself" among the last token's forms)
 */
export function tokenize(input: string, tables: NormalizerTables, maxChars: number): TokenizedText {
  const begin = Math.max(0, input.search(/\S/));
  const folded = fold(input.slice(begin, afterCodePoints(input, begin, maxChars)), begin, tables.homoglyphs);
  const pieces = joinSpacedLetters(scan(folded.text, tables.leet), tables, tables.maxWordLength);
  const tokens: Token[] = [];
  let sentence = 0;
  for (const piece of pieces) {
    const sentenceBreak = tokens.length > 0 && SENTENCE_BREAK.test(piece.gap.replace(ELLIPSIS, ""));
    if (sentenceBreak) sentence++;
    let clauseBreak = tokens.length === 0 || sentenceBreak || CLAUSE_BREAK.test(piece.gap);
    const start = folded.from[piece.start]!;
    const end = folded.to[piece.end - 1]!;
    const words = expandContractions(piece.text, tables);
    // `hamlet's` is also `hamlet`: a possessive must not hide a cue word.
    const possessive = words.length === 1 && piece.text.endsWith("'s") ? wordForms(piece.text.slice(0, -2).replaceAll("'", ""), tables) : undefined;
    for (const word of words) {
      if (word === "") continue;
      const expanded = wordForms(word, tables);
      if (possessive?.length === 1 && expanded.length === 1) expanded[0] = [...new Set([...expanded[0]!, ...possessive[0]!])];
      for (const forms of expanded) {
        tokens.push({ forms, start, end, sentence, clauseBreak });
        clauseBreak = false;
      }
    }
  }
  const sentenceEnd = new Array<number>(tokens.length);
  for (let i = tokens.length - 1; i >= 0; i--) {
    const nextSame = i + 1 < tokens.length && tokens[i + 1]!.sentence === tokens[i]!.sentence;
    sentenceEnd[i] = nextSame ? sentenceEnd[i + 1]! : i + 1;
  }
  return { tokens, sentenceEnd };
}
