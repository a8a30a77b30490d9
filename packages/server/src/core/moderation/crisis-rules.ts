import { z } from "zod";
import { SCREEN_CATEGORIES, SCREEN_SEVERITIES, type ScreenCategory, type ScreenSeverity } from "../../ports/screener.js";
import { STEM_SUFFIX_MAX, type NormalizerTables } from "./normalize.js";
import { compilePattern, PatternError, PatternIndex, TermTable, type PatternElement } from "./pattern.js";

const severity = z.enum(SCREEN_SEVERITIES);
const category = z.enum(SCREEN_CATEGORIES);
const id = z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, "ids are lowercase letters, digits, '.', '_' and '-'");
const pattern = z.string().min(1).max(300);
const word = z.string().regex(/^[a-z0-9]+$/, "a normalized word: a-z and 0-9 only");
const phrase = z.string().regex(/^[a-z0-9]+( [a-z0-9]+)*$/, "normalized words separated by single spaces");

const ruleSchema = z.strictObject({
  id,
  category,
  severity,
  /** Free labels modifiers select on (`first_person`, `third_party`, `mention`). */
  tags: z.array(z.string().min(1)).default([]),
  patterns: z.array(pattern).min(1),
  description: z.string().optional(),
});

const effectSchema = z.union([
  z.literal("suppress"),
  z.strictObject({ shift: z.int().min(-3).max(3), floor: severity.optional() }),
  z.strictObject({ cap: severity }),
  z.strictObject({ raiseTo: severity }),
]);

const modifierSchema = z.strictObject({
  id,
  description: z.string().min(1),
  /** Patterns whose presence, placed as `where` says, triggers the effect. */
  cues: z.array(pattern).min(1),
  /** A cue inside one of these is no cue (`can not stop` holds `not` but negates nothing). */
  except: z.array(pattern).default([]),
  where: z.enum(["before", "after", "around", "overlap", "sentence", "message"]),
  /** Words allowed between cue and match, for before/after/around. */
  window: z.int().min(0).max(12).default(5),
  /** Words that end the scope of a before/after cue (`but`, `i`). */
  stopWords: z.array(word).default([]),
  /** Whether a comma, colon, dash or ellipsis ends the scope. */
  stopAtClause: z.boolean().default(true),
  appliesTo: z
    .strictObject({
      categories: z.array(category).optional(),
      tags: z.array(z.string()).optional(),
      exceptTags: z.array(z.string()).optional(),
    })
    .default({}),
  /** Patterns that cancel the modifier when present in `unlessWhere`. */
  unless: z.array(pattern).default([]),
  unlessWhere: z.enum(["sentence", "message"]).default("sentence"),
  effect: effectSchema,
});

/** The JSON rules file, as validated. See docs/crisis-screening.md for the format. */
export const crisisRulesSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.string().regex(/^\d+\.\d+\.\d+$/, "a semantic version such as 1.0.0"),
  description: z.string().optional(),
  limits: z.strictObject({
    maxInputChars: z.int().min(100).max(100_000),
    maxMatches: z.int().min(1).max(100),
    excerptChars: z.int().min(10).max(200),
  }),
  normalization: z.strictObject({
    leet: z.record(z.string().length(1), z.array(z.string().regex(/^[a-z]$/)).min(1)),
    homoglyphs: z.record(z.string().length(1), z.string().length(1)),
    contractions: z.strictObject({ words: z.record(z.string(), phrase), suffixes: z.record(z.string(), phrase) }),
    spellings: z.record(word, phrase),
    /** Extra words spaced-out letters may be split into (every word used by a pattern already is). */
    vocabulary: z.array(word).default([]),
  }),
  terms: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/, "term names are UPPER_CASE"), z.array(pattern).min(1)),
  categoryPriority: z.array(category).length(SCREEN_CATEGORIES.length),
  mood: z.strictObject({
    /** Scores at or below this count as low mood (scale 1 worst .. 5 best). */
    lowAtOrBelow: z.number(),
    /** Severity of a low score with nothing risky in the text; null: not flagged. */
    aloneSeverity: severity.nullable(),
    /** Levels a low score adds to every match. */
    escalateBy: z.int().min(0).max(3),
  }),
  rules: z.array(ruleSchema).min(1),
  modifiers: z.array(modifierSchema),
});

export type CrisisRulesFile = z.infer<typeof crisisRulesSchema>;
export type ModifierEffect = z.infer<typeof effectSchema>;

/** A rules file that does not validate; `problems` lists each one with its path. */
export class CrisisRulesError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid crisis rules:\n  ${problems.join("\n  ")}`);
    this.name = "CrisisRulesError";
  }
}

/** A rule ready to match; the object itself keys its matches in a scan. */
export interface CompiledRule {
  id: string;
  category: ScreenCategory;
  severity: ScreenSeverity;
  tags: ReadonlySet<string>;
}

/** A modifier ready to apply; its three keys identify its pattern lists in a scan. */
export interface CompiledModifier {
  id: string;
  where: CrisisRulesFile["modifiers"][number]["where"];
  window: number;
  stopWords: ReadonlySet<string>;
  stopAtClause: boolean;
  categories?: ReadonlySet<ScreenCategory>;
  tags?: ReadonlySet<string>;
  exceptTags?: ReadonlySet<string>;
  unlessWhere: "sentence" | "message";
  effect: ModifierEffect;
  keys: { cue: object; except: object; unless: object };
}

export interface CompiledRules {
  version: string;
  limits: CrisisRulesFile["limits"];
  tables: NormalizerTables;
  rules: CompiledRule[];
  modifiers: CompiledModifier[];
  /** Every pattern, owned by its rule or by one of a modifier's keys. */
  index: PatternIndex<object>;
  categoryPriority: ScreenCategory[];
  mood: CrisisRulesFile["mood"];
}

function collectWords(elements: readonly PatternElement[], words: Set<string>, stems: Set<string>): void {
  for (const element of elements) {
    if (element.kind === "words") {
      for (const w of element.words) words.add(w);
      for (const s of element.stems) stems.add(s);
    } else if (element.kind === "term") {
      for (const alternative of element.alternatives) collectWords(alternative, words, stems);
    }
  }
}

/**
 * Validates a parsed rules file and compiles its patterns.
 *
 * @throws CrisisRulesError listing every problem (schema, duplicate ids, bad patterns).
 */
export function compileCrisisRules(data: unknown): CompiledRules {
  const parsed = crisisRulesSchema.safeParse(data);
  if (!parsed.success) {
    throw new CrisisRulesError(parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`));
  }
  const file = parsed.data;
  const problems: string[] = [];
  const terms = new TermTable(file.terms);
  const index = new PatternIndex<object>();
  const words = new Set<string>(file.normalization.vocabulary);
  const stems = new Set<string>();

  const addPatterns = (sources: readonly string[], path: string, owner: object) => {
    sources.forEach((source, i) => {
      try {
        const elements = compilePattern(source, terms);
        collectWords(elements, words, stems);
        index.add(elements, owner);
      } catch (err) {
        if (!(err instanceof PatternError)) throw err;
        problems.push(`${path}.${i}: ${err.message}`);
      }
    });
  };

  const seen = new Set<string>();
  const checkId = (value: string, path: string) => {
    if (seen.has(value)) problems.push(`${path}: duplicate id "${value}"`);
    seen.add(value);
  };

  const rules = file.rules.map((rule, i): CompiledRule => {
    checkId(rule.id, `rules.${i}.id`);
    const compiled: CompiledRule = { id: rule.id, category: rule.category, severity: rule.severity, tags: new Set(rule.tags) };
    addPatterns(rule.patterns, `rules.${i}.patterns`, compiled);
    return compiled;
  });

  const modifiers = file.modifiers.map((modifier, i): CompiledModifier => {
    checkId(modifier.id, `modifiers.${i}.id`);
    const { categories, tags, exceptTags } = modifier.appliesTo;
    const compiled: CompiledModifier = {
      id: modifier.id,
      where: modifier.where,
      window: modifier.window,
      stopWords: new Set(modifier.stopWords),
      stopAtClause: modifier.stopAtClause,
      ...(categories && { categories: new Set(categories) }),
      ...(tags && { tags: new Set(tags) }),
      ...(exceptTags && { exceptTags: new Set(exceptTags) }),
      unlessWhere: modifier.unlessWhere,
      effect: modifier.effect,
      keys: { cue: {}, except: {}, unless: {} },
    };
    addPatterns(modifier.cues, `modifiers.${i}.cues`, compiled.keys.cue);
    addPatterns(modifier.except, `modifiers.${i}.except`, compiled.keys.except);
    addPatterns(modifier.unless, `modifiers.${i}.unless`, compiled.keys.unless);
    return compiled;
  });

  // Terms no pattern uses still have to be valid: they are part of the file.
  for (const name of Object.keys(file.terms)) {
    try {
      for (const alternative of terms.alternatives(name)) collectWords(alternative, words, stems);
    } catch (err) {
      if (!(err instanceof PatternError)) throw err;
      if (!problems.some((p) => p.includes(err.message))) problems.push(`terms.${name}: ${err.message}`);
    }
  }

  if (new Set(file.categoryPriority).size !== file.categoryPriority.length) problems.push("categoryPriority: lists a category twice");
  if (problems.length > 0) throw new CrisisRulesError(problems);

  for (const [from, to] of Object.entries(file.normalization.spellings)) {
    words.add(from);
    for (const w of to.split(" ")) words.add(w);
  }
  const stemList = [...stems];
  const tables: NormalizerTables = {
    leet: new Map(Object.entries(file.normalization.leet)),
    homoglyphs: new Map(Object.entries(file.normalization.homoglyphs)),
    contractionWords: new Map(Object.entries(file.normalization.contractions.words)),
    contractionSuffixes: Object.entries(file.normalization.contractions.suffixes).sort((a, b) => b[0].length - a[0].length),
    spellings: new Map(Object.entries(file.normalization.spellings)),
    vocabulary: words,
    stems: stemList,
    maxWordLength: Math.max(1, ...[...words].map((w) => w.length), ...stemList.map((s) => s.length + STEM_SUFFIX_MAX)),
  };
  return { version: file.version, limits: file.limits, tables, rules, modifiers, index, categoryPriority: file.categoryPriority, mood: file.mood };
}
