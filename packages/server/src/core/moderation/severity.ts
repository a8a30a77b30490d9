import { SCREEN_SEVERITIES, type ScreenSeverity } from "../../ports/screener.js";

/** 0 for `low` up to 3 for `critical`. */
export function severityRank(severity: ScreenSeverity): number {
  return SCREEN_SEVERITIES.indexOf(severity);
}

/** Moves `severity` by `by` levels, clamped to `[floor, critical]`. */
export function shiftSeverity(severity: ScreenSeverity, by: number, floor: ScreenSeverity = "low"): ScreenSeverity {
  const rank = Math.min(SCREEN_SEVERITIES.length - 1, Math.max(severityRank(floor), severityRank(severity) + by));
  return SCREEN_SEVERITIES[rank]!;
}

/** The more urgent of two severities. */
export function maxSeverity(a: ScreenSeverity, b: ScreenSeverity): ScreenSeverity {
  return severityRank(a) >= severityRank(b) ? a : b;
}

/** The less urgent of two severities. */
export function minSeverity(a: ScreenSeverity, b: ScreenSeverity): ScreenSeverity {
  return severityRank(a) <= severityRank(b) ? a : b;
}
