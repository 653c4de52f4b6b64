/**
 * Ctrl-C (SIGINT) and SIGTERM for the long-running commands (run, suite, sweep, tune): the first signal
 * stops the run (the guest stays on the source, the workers are ended, no partial output is written)
 * and the command returns 128 + the signal's number (130 for SIGINT, 143 for SIGTERM); a second one
 * quits at once through the hook main.ts installs (main.ts is the only place that calls process.exit).
 */

export const INTERRUPT_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
export type InterruptSignal = (typeof INTERRUPT_SIGNALS)[number];

/** Exit codes of an interrupted command: 128 + the signal number. */
export const INTERRUPT_EXIT_CODE: Record<InterruptSignal, number> = { SIGINT: 130, SIGTERM: 143 };

let quitAtOnce: ((code: number) => void) | null = null;

/** main.ts (the binary) says how to quit at once on a second signal; without it, a second signal is ignored. */
export function setQuitAtOnce(quit: ((code: number) => void) | null): void {
  quitAtOnce = quit;
}

export interface Interrupts {
  /** aborted at the first SIGINT or SIGTERM */
  readonly signal: AbortSignal;
  /** the signal received first, or null */
  readonly received: InterruptSignal | null;
  /** 130 or 143 once a signal came (130 when none did: the caller saw E_INTERRUPTED some other way) */
  readonly exitCode: number;
  /** stop listening */
  dispose(): void;
}

/**
 * Listen for SIGINT and SIGTERM while a command runs. `onFirst` says what happens (a line on stderr);
 * the run then stops through `signal`.
 */
export function watchInterrupts(onFirst: (signal: InterruptSignal) => void): Interrupts {
  const abort = new AbortController();
  let received: InterruptSignal | null = null;
  const handlers = new Map<InterruptSignal, () => void>();
  for (const name of INTERRUPT_SIGNALS) {
    const handler = (): void => {
      if (received !== null) {
        quitAtOnce?.(INTERRUPT_EXIT_CODE[name]);
        return;
      }
      received = name;
      onFirst(name);
      abort.abort();
    };
    handlers.set(name, handler);
    process.on(name, handler);
  }
  return {
    signal: abort.signal,
    get received() {
      return received;
    },
    get exitCode() {
      return INTERRUPT_EXIT_CODE[received ?? 'SIGINT'];
    },
    dispose: () => {
      for (const [name, handler] of handlers) process.removeListener(name, handler);
    },
  };
}

/** How the first line says it: "interrupted" for Ctrl-C, "terminated (SIGTERM)" for SIGTERM. */
export function interruptedWord(signal: InterruptSignal | null): string {
  return signal === 'SIGTERM' ? 'terminated (SIGTERM)' : 'interrupted';
}
