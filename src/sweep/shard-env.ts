/**
 * `--shard auto`: the shard a pod of a Kubernetes Indexed Job runs, from its environment. Pure.
 *
 * Kubernetes sets `JOB_COMPLETION_INDEX` (0-based, decimal) in every container of an Indexed Job's
 * pods (https://kubernetes.io/docs/tasks/job/indexed-parallel-processing-static/). It does not set the
 * Job's `spec.completions`, so the pod template sets `JOB_COMPLETIONS` to the same number
 * (examples/k8s/sweep-job.yaml). migbench's shards are 1-based (`--shard I/N`): index + 1.
 */
import { MigbenchError } from '../errors.ts';
import type { Shard } from '../results/sweep-types.ts';

export const SHARD_INDEX_VARIABLE = 'JOB_COMPLETION_INDEX';
export const SHARD_COUNT_VARIABLE = 'JOB_COMPLETIONS';

export type Environment = Readonly<Record<string, string | undefined>>;

function refuse(message: string): never {
  throw new MigbenchError('E_USAGE', `--shard auto: ${message}`);
}

/** A decimal whole number as Kubernetes writes one (no sign, no spaces, no exponent), or null. */
function wholeNumber(text: string): number | null {
  if (!/^\d+$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

/** The shard (1-based) from `JOB_COMPLETION_INDEX` (0-based) and `JOB_COMPLETIONS`; a missing or malformed variable is refused (E_USAGE). */
export function shardFromEnvironment(env: Environment): Shard {
  const countText = env[SHARD_COUNT_VARIABLE];
  if (countText === undefined) {
    refuse(`${SHARD_COUNT_VARIABLE} is not set: set it in the pod template to the Job's spec.completions (Kubernetes sets only ${SHARD_INDEX_VARIABLE}), or give --shard I/N`);
  }
  const count = wholeNumber(countText);
  if (count === null || count < 1) refuse(`${SHARD_COUNT_VARIABLE}: expected a whole number >= 1 (the Job's spec.completions), got ${JSON.stringify(countText)}`);
  const indexText = env[SHARD_INDEX_VARIABLE];
  if (indexText === undefined) {
    refuse(`${SHARD_INDEX_VARIABLE} is not set (a Kubernetes Indexed Job sets it to the pod's 0-based index): run in one, or give --shard I/N`);
  }
  const index = wholeNumber(indexText);
  if (index === null || index >= count) {
    refuse(`${SHARD_INDEX_VARIABLE}: expected a whole number from 0 to ${SHARD_COUNT_VARIABLE} - 1 (${count - 1}), got ${JSON.stringify(indexText)}`);
  }
  return { index: index + 1, count };
}
