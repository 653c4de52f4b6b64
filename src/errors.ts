/**
 * One error class for everything migbench refuses or cannot do. `code` is stable and machine-readable;
 * `message` is for humans (one line, names the key, the rule and the bad value where there is one).
 * The CLI maps codes to exit codes (see `exitCodeFor`); the engine never calls process.exit.
 */
export type ErrorCode =
  | 'E_USAGE' // bad command line
  | 'E_SCENARIO' // a scenario key is missing a rule (unknown, wrong type, out of range)
  | 'E_RESOURCES' // the machine cannot hold what the scenario asks for
  | 'E_IMAGE_CORRUPT'
  | 'E_STREAM_CORRUPT'
  | 'E_AUTH' // a tcp sender without the receiver's token (link.tokenFile / receive --token-file)
  | 'E_RESULT' // a run, suite, sweep or comparison result file that is not a well-formed document
  | 'E_IO'
  | 'E_WORKER' // a worker thread crashed or broke the protocol
  | 'E_VERIFY' // destination differs from source: a migbench bug
  | 'E_INTERRUPTED'; // the user stopped the run (Ctrl-C)

export class MigbenchError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigbenchError';
    this.code = code;
  }
}

/** Exit codes of the CLI contract: 2 usage/scenario/bad result file, 3 crash or failed verification, 130 interrupted. */
export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'E_USAGE':
    case 'E_SCENARIO':
    case 'E_RESOURCES':
    case 'E_RESULT':
    case 'E_AUTH':
      return 2;
    case 'E_INTERRUPTED':
      return 130;
    default:
      return 3;
  }
}

export function isMigbenchError(error: unknown): error is MigbenchError {
  return error instanceof MigbenchError;
}
