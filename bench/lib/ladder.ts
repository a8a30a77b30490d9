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
export async function climb<S extends LadderStep>(start: number, max: number, refine: number, run: (rate: number) => Promise<S>): Promise<{ steps: S[]; sustained?: S }> {
  const steps: S[] = [];
  let good: S | undefined;
  let bad: S | undefined;
  for (let rate = start; rate <= max; rate *= 2) {
    const step = await run(Math.round(rate));
    steps.push(step);
    if (!step.keptUp) {
      bad = step;
      break;
    }
    good = step;
  }
  for (let i = 0; i < refine && good && bad; i++) {
    const rate = Math.round(Math.sqrt(good.rate * bad.rate));
    if (rate <= good.rate || rate >= bad.rate) break;
    const step = await run(rate);
    steps.push(step);
    if (step.keptUp) good = step;
    else bad = step;
  }
  return { steps, sustained: good };
}
