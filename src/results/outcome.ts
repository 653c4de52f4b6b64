/** How a pre-copy migration ended, as the result document says it (`precopy.outcome`, `precopy.reason`). */

export type StopReason = 'max-rounds' | 'timeout' | 'traffic-cap' | 'no-progress';

export type Outcome =
  | { readonly outcome: 'converged' }
  | { readonly outcome: 'forced-stop'; readonly reason: StopReason }
  | { readonly outcome: 'cancelled'; readonly reason: 'timeout' | 'interrupted' }
  | { readonly outcome: 'errored'; readonly error: string };
