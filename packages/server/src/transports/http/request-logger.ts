import type { FastifyBaseLogger } from "fastify";
import type { Bindings, ChildLoggerOptions, LevelWithSilentOrString, Logger } from "pino";

type Level = "fatal" | "error" | "warn" | "info" | "debug" | "trace";

/**
 * A request's logger (`request.log`) that becomes a pino child, with the
 * request id bound, only when a line is written at an enabled level.
 *
 * Why: fastify makes a child logger for every request, and pino serializes
 * the child's bindings through the redaction rules at once. Switchboard logs
 * on a request only when it fails, so that child was built for nothing on
 * nearly every request: 15-20 µs of the 250 µs between a `POST /v1/events`
 * arriving and its broadcast at 100 publishes/s (BENCHMARKS.md, session 15).
 */
export class LazyRequestLogger implements FastifyBaseLogger {
  private real: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  get level(): LevelWithSilentOrString {
    return this.real?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: LevelWithSilentOrString) {
    this.materialize().level = level;
  }

  // Methods on the prototype, not arrow properties: a request's logger must cost one small object.
  fatal(...args: unknown[]): void {
    this.write("fatal", args);
  }
  error(...args: unknown[]): void {
    this.write("error", args);
  }
  warn(...args: unknown[]): void {
    this.write("warn", args);
  }
  info(...args: unknown[]): void {
    this.write("info", args);
  }
  debug(...args: unknown[]): void {
    this.write("debug", args);
  }
  trace(...args: unknown[]): void {
    this.write("trace", args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.materialize().child(bindings, options);
  }

  private write(level: Level, args: unknown[]): void {
    // A level the parent does not log costs no child. A route's own `logLevel`
    // (fastify passes it as the child's level) decides for itself: made at once.
    if (this.real === undefined && this.options.level === undefined && !this.parent.isLevelEnabled(level)) return;
    const logger = this.materialize();
    (logger[level] as (...a: unknown[]) => void).apply(logger, args);
  }

  private materialize(): Logger {
    this.real ??= this.parent.child(this.bindings, this.options);
    return this.real;
  }
}
