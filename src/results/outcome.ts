/** How a pre-copy migration ended, as the result document says it (`precopy.outcome`, `precopy.reason`). */

export type StopReason = 'max-rounds' | 'timeout' | 'traffic-cap' | 'no-progress';

export type Outcome =
  | { readonly outcome: 'converged' }
  /** the guest resumed on the destination before all its pages were there, and every page then arrived (src/postcopy/) */
  | { readonly outcome: 'postcopy' }
  | { readonly outcome: 'forced-stop'; readonly reason: StopReason }
  | { readonly outcome: 'cancelled'; readonly reason: 'timeout' | 'interrupted' }
  /** the orchestrator (scenario `orchestrator`) aborted it, e.g. "progress-timeout", "completion-timeout": the guest stays on the source, running */
  | { readonly outcome: 'aborted'; readonly reason: string }
  /** the orchestrator paused the guest so the migration finished as a stop-and-copy of everything left (its downtime is the whole remainder) */
  | { readonly outcome: 'paused'; readonly reason: string }
  | { readonly outcome: 'errored'; readonly error: string }
  /** the link died (faults.linkDownAtMs): before the switch the guest runs on the source; after a switch to post-copy it is lost */
  | { readonly outcome: 'failed'; readonly reason: 'link-down'; readonly guestLost: boolean };
