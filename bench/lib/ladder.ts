/** One measured step of a rate ladder. */
export interface LadderStep {
  rate: number;
  keptUp: boolean;
}

/**
 * Finds the highest rate a server keeps up with: doubles from `start` until a
 * step falls behind (or `max` is passed), then narrows the gap between the last
 * good rate and the first bad one by geometric bisection, `refine` times (two
 * bisections bring the answer within about 19%). Every step is returned, in
 * the order run, so a chart can show latency against rate.
 */
export async function climb<S extends LadderStep>(start: number, max: number, refine: number, run: (rate: number) => Promise<S>): Promise<Ladder<S>> {
  // One server's ladder is the interleaved climb of a single server.
  return (await climbTogether(["only"], start, max, refine, (_, rate) => run(rate))).get("only")!;
}

/** One server's ladder, as {@link climb} returns it. */
export interface Ladder<S extends LadderStep> {
  steps: S[];
  sustained?: S;
}

/**
 * {@link climb} for several servers at once, their steps interleaved: at each
 * rate of the doubling, every server still keeping up runs its step, one after
 * the other, the order reversed from one rate to the next (A B C, C B A, ...);
 * then each server's bisections, a round at a time in the same alternation.
 * Each server's steps are the ones `climb` would have run for it alone.
 *
 * Why: run one ladder after another, two servers' steps at the same rate were
 * 20-60 s apart, and this machine's speed drifts over that time by as much as
 * the latency differences measured at light rates. Interleaved, they are a
 * few seconds apart, and neither server always runs first.
 */
export async function climbTogether<K extends string, S extends LadderStep>(
  names: readonly K[],
  start: number,
  max: number,
  refine: number,
  run: (name: K, rate: number) => Promise<S>,
): Promise<Map<K, Ladder<S>>> {
  const ladders = new Map(names.map((name) => [name, { steps: [] as S[], good: undefined as S | undefined, bad: undefined as S | undefined }]));
  let turn = 0;
  const inTurn = <T>(items: T[]) => (turn++ % 2 === 0 ? items : [...items].reverse());
  const record = (name: K, step: S) => {
    const ladder = ladders.get(name)!;
    ladder.steps.push(step);
    if (step.keptUp) ladder.good = step;
    else ladder.bad = step;
  };
  for (let rate = start; rate <= max; rate *= 2) {
    const climbing = names.filter((name) => !ladders.get(name)!.bad);
    if (climbing.length === 0) break;
    for (const name of inTurn(climbing)) record(name, await run(name, Math.round(rate)));
  }
  for (let i = 0; i < refine; i++) {
    const narrowing = names.flatMap((name) => {
      const { good, bad } = ladders.get(name)!;
      if (!good || !bad) return [];
      const rate = Math.round(Math.sqrt(good.rate * bad.rate));
      return rate <= good.rate || rate >= bad.rate ? [] : [{ name, rate }];
    });
    if (narrowing.length === 0) break;
    for (const { name, rate } of inTurn(narrowing)) record(name, await run(name, rate));
  }
  return new Map([...ladders].map(([name, { steps, good }]) => [name, { steps, sustained: good }]));
}
