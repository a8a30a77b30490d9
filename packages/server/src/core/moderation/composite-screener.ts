import type { Logger } from "pino";
import { z } from "zod";
import {
  SCREEN_CATEGORIES,
  SCREEN_SEVERITIES,
  type ScreenCategory,
  type ScreenInput,
  type ScreenMatch,
  type Screener,
  type ScreenResult,
  type ScreenSeverity,
} from "../../ports/screener.js";
import { severityRank } from "./severity.js";

/**
 * What an app screener answers. A full {@link ScreenResult} fits; so does the
 * bare `{ flagged, severity?, category? }` of the HTTP webhook.
 */
export interface AppScreenResult {
  flagged: boolean;
  severity?: ScreenSeverity;
  category?: ScreenCategory;
  matches?: ScreenMatch[];
}

/** An app's own screener: `undefined` means no opinion. */
export type ScreenerHook = (input: ScreenInput) => Promise<AppScreenResult | undefined>;

/** An app screener with the name that appears in logs, match ids (`app:<name>`) and `unavailable`. */
export interface NamedScreenerHook {
  name: string;
  screen: ScreenerHook;
  /** Longest wait for this hook; the composite's default otherwise. */
  timeoutMs?: number;
}

export interface CompositeScreenerOptions {
  /** Runs first and always counts: normally the built-in {@link CrisisScreener}. */
  builtin: Screener;
  hooks: readonly NamedScreenerHook[];
  logger: Logger;
  /** Default longest wait for a hook (2 s). */
  timeoutMs?: number;
}

/** An app flag without a severity reaches a human, but does not page anyone as urgent. */
const DEFAULT_APP_SEVERITY: ScreenSeverity = "medium";
const MAX_APP_MATCHES = 10;

const matchSchema = z.object({
  ruleId: z.string().max(200),
  category: z.enum(SCREEN_CATEGORIES),
  severity: z.enum(SCREEN_SEVERITIES),
  excerpt: z.string().max(200),
});

/** Answers are checked: an app bug must not poison the stored result. */
const appResultSchema = z.object({
  flagged: z.boolean(),
  severity: z.enum(SCREEN_SEVERITIES).optional(),
  category: z.enum(SCREEN_CATEGORIES).optional(),
  matches: z.array(matchSchema).optional(),
});

class HookTimeout extends Error {}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HookTimeout(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The built-in screener plus the app's own (library hooks, HTTP webhooks), run
 * in parallel. The combined result is the most severe of all; app screeners can
 * add flags, never remove the built-in one's. A hook that throws, times out or
 * answers something malformed is logged, named in `unavailable`, and ignored:
 * the message is never held up or dropped because an app screener failed.
 *
 * @example
 * const screener = new CompositeScreener({
 *   builtin: new CrisisScreener(),
 *   hooks: [{ name: "clinic-terms", screen: async ({ text }) => (text.includes("code red") ? { flagged: true, severity: "high" } : undefined) }],
 *   logger,
 * });
 */
export class CompositeScreener implements Screener {
  private readonly timeoutMs: number;

  constructor(private readonly options: CompositeScreenerOptions) {
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  async screen(input: ScreenInput): Promise<ScreenResult> {
    if (this.options.hooks.length === 0) {
      // No app screener: an unflagged built-in answer is the whole answer, as the
      // combination below would rebuild it. Every chat message comes through here.
      const builtin = await this.runBuiltin(input);
      return builtin.flagged ? this.combine(builtin, []) : builtin;
    }
    const [builtin, ...answers] = await Promise.all([this.runBuiltin(input), ...this.options.hooks.map((hook) => this.runHook(hook, input))]);
    return this.combine(builtin, answers);
  }

  /** The most severe of the built-in answer and the hooks' (`answers[i]` is hook i's). */
  private combine(builtin: ScreenResult, answers: (AppScreenResult | undefined | "failed")[]): ScreenResult {
    const matches = [...builtin.matches];
    const unavailable = [...(builtin.unavailable ?? [])];
    let top: { severity: ScreenSeverity; category?: ScreenCategory } | undefined = builtin.flagged && builtin.severity ? { severity: builtin.severity, ...(builtin.category && { category: builtin.category }) } : undefined;
    this.options.hooks.forEach((hook, i) => {
      const answer = answers[i];
      if (answer === "failed") {
        unavailable.push(hook.name);
        return;
      }
      if (!answer?.flagged) return;
      const severity = answer.severity ?? DEFAULT_APP_SEVERITY;
      const appMatches = answer.matches?.slice(0, MAX_APP_MATCHES) ?? (answer.category ? [{ ruleId: `app:${hook.name}`, category: answer.category, severity, excerpt: "" }] : []);
      matches.push(...appMatches);
      if (!top || severityRank(severity) > severityRank(top.severity)) top = { severity, ...(answer.category && { category: answer.category }) };
    });
    matches.sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
    if (!top) return { ...builtin, matches, ...(unavailable.length > 0 && { unavailable }) };
    // A severity without a category (an app flag without one, a low mood score)
    // borrows the category of the most severe match that has one.
    const category = top.category ?? matches[0]?.category;
    return {
      flagged: true,
      severity: top.severity,
      ...(category && { category }),
      matches,
      rulesVersion: builtin.rulesVersion,
      ...(builtin.lowMood && { lowMood: true }),
      ...(unavailable.length > 0 && { unavailable }),
    };
  }

  /** The built-in screener never rejects by contract; this guards a broken replacement. */
  private async runBuiltin(input: ScreenInput): Promise<ScreenResult> {
    try {
      return await this.options.builtin.screen(input);
    } catch (err) {
      this.options.logger.error({ err: (err as Error).message, tenantId: input.tenantId }, "built-in screener failed");
      return { flagged: false, matches: [], rulesVersion: "unknown", unavailable: ["builtin"] };
    }
  }

  private async runHook(hook: NamedScreenerHook, input: ScreenInput): Promise<AppScreenResult | undefined | "failed"> {
    try {
      const answer = await withTimeout(Promise.resolve().then(() => hook.screen(input)), hook.timeoutMs ?? this.timeoutMs);
      if (answer === undefined) return undefined;
      const parsed = appResultSchema.safeParse(answer);
      if (parsed.success) return parsed.data;
      this.options.logger.warn({ screener: hook.name, tenantId: input.tenantId, issues: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`) }, "app screener answered an invalid result; using the others");
    } catch (err) {
      // The text is not logged: it may be exactly the kind of message that must stay private.
      this.options.logger.warn({ screener: hook.name, tenantId: input.tenantId, err: (err as Error).message }, "app screener failed; using the others");
    }
    return "failed";
  }
}
