/**
 * Scenario keys that emulate mode waits out on a real timer. A Node timer holds at most 2^31 − 1 ms
 * (`MAX_TIMER_MS`, about 24.8 days); the real clock sleeps longer waits in pieces, but a hand-over of
 * weeks is a typo, not a benchmark, and would hold the guest in memory all that time. So emulate mode
 * refuses a longer one in one line, before anything is allocated. Simulate mode and `predict` model
 * the time without waiting and accept any finite value.
 *
 * `precopy.timeoutMs` is not a timer (the loop compares the time passed with it between rounds), so
 * it has no such limit.
 */
import { MAX_TIMER_MS } from './clock.ts';
import { MigbenchError } from './errors.ts';
import type { Scenario } from './options.ts';
import { formatCount, formatDurationMs } from './units.ts';

export function checkTimers(scenario: Scenario): void {
  const handoverMs = scenario.quick.handoverMs;
  if (handoverMs > MAX_TIMER_MS) {
    throw new MigbenchError(
      'E_SCENARIO',
      `quick.handoverMs: emulate mode waits the hand-over out on a real timer, at most ${formatCount(MAX_TIMER_MS)} ms (${formatDurationMs(MAX_TIMER_MS)}; --mode simulate and predict take any value), got ${formatCount(handoverMs)}`,
    );
  }
}
