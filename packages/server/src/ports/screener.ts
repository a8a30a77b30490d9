/** Risk kinds a screener reports. Order is only for display; severity decides. */
export const SCREEN_CATEGORIES = ["suicide", "self_harm", "harm_to_others", "abuse"] as const;
export type ScreenCategory = (typeof SCREEN_CATEGORIES)[number];

/**
 * Severities, least to most urgent:
 * - `low`: worth a look, no alert (ambiguous wording, someone else at risk, history);
 * - `medium`: passive or indirect risk (`everyone would be better off without me`);
 * - `high`: ideation or ongoing harm (`I want to die`, `he hits me`);
 * - `critical`: explicit current intent, plan, means or timing (`I have the pills ready`).
 */
export const SCREEN_SEVERITIES = ["low", "medium", "high", "critical"] as const;
export type ScreenSeverity = (typeof SCREEN_SEVERITIES)[number];

/** What is screened: one chat message, or the note of a mood update with its score. */
export interface ScreenInput {
  tenantId: string;
  userId: string;
  text: string;
  kind: "message" | "mood";
  /** Mood updates only: 1 (worst) to 5 (best) unless the screener is configured otherwise. */
  moodScore?: number;
}

/** One reason for a flag. */
export interface ScreenMatch {
  /** Stable id of the rule (or `app:<name>` for an app screener). */
  ruleId: string;
  category: ScreenCategory;
  severity: ScreenSeverity;
  /**
   * The matched words as written, at most 60 characters: enough for a reviewer to
   * see why, never more of the message than the match itself.
   */
  excerpt: string;
}

export interface ScreenResult {
  flagged: boolean;
  /** Highest severity among the matches (or `low` for a low mood score alone). */
  severity?: ScreenSeverity;
  /** Category of the most severe match; absent when only a low mood score flagged. */
  category?: ScreenCategory;
  /** Bounded list, most severe first. */
  matches: ScreenMatch[];
  /** Version of the built-in rules that produced the result. */
  rulesVersion: string;
  /** True when a mood update's score was at or below the low-mood threshold. */
  lowMood?: boolean;
  /**
   * Screeners that gave no answer (threw, timed out, answered garbage); the result
   * stands on the others. Present only when something failed.
   */
  unavailable?: string[];
}

/**
 * Decides whether a chat message or mood update shows risk of suicide, self-harm,
 * harm to others or abuse. Runs before the message is stored.
 *
 * Contract:
 * - Pure with respect to the message: no side effects, the same input gives the
 *   same result (app screeners composed in may call out, but must keep this shape).
 * - Never rejects, whatever the input (empty, huge, binary, not even a string):
 *   a screener that cannot decide answers `flagged: false` and names itself in
 *   `unavailable`, so a message is never dropped because screening failed.
 * - Bounded time for any input length: long text is screened up to a fixed cap.
 * - Excerpts are short (see {@link ScreenMatch.excerpt}); the full text is never
 *   copied into the result.
 * - A flag is advice for humans (a care team), not a verdict; it is never the
 *   only safety net.
 */
export interface Screener {
  screen(input: ScreenInput): Promise<ScreenResult>;
}
