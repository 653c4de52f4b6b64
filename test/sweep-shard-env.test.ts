/** `--shard auto`: the shard from a Kubernetes Indexed Job's environment (JOB_COMPLETION_INDEX 0-based, JOB_COMPLETIONS). */
import { describe, expect, it } from 'vitest';
import { MigbenchError } from '../src/errors.ts';
import { parseShard, shardIndices } from '../src/sweep/grid.ts';
import { shardFromEnvironment, type Environment } from '../src/sweep/shard-env.ts';

describe('shardFromEnvironment', () => {
  const accepted: [Environment, { index: number; count: number }][] = [
    [{ JOB_COMPLETION_INDEX: '0', JOB_COMPLETIONS: '1' }, { index: 1, count: 1 }],
    [{ JOB_COMPLETION_INDEX: '0', JOB_COMPLETIONS: '4' }, { index: 1, count: 4 }],
    [{ JOB_COMPLETION_INDEX: '3', JOB_COMPLETIONS: '4' }, { index: 4, count: 4 }],
    [{ JOB_COMPLETION_INDEX: '41', JOB_COMPLETIONS: '100000', PATH: '/bin' }, { index: 42, count: 100000 }],
  ];
  it.each(accepted)('%j -> %j', (env, shard) => {
    expect(shardFromEnvironment(env)).toEqual(shard);
  });

  // each refusal: one line naming the variable, the rule and the bad value
  const refused: [string, Environment, RegExp][] = [
    ['no variables at all', {}, /^--shard auto: JOB_COMPLETIONS is not set: set it in the pod template to the Job's spec\.completions \(Kubernetes sets only JOB_COMPLETION_INDEX\), or give --shard I\/N$/],
    ['no index', { JOB_COMPLETIONS: '4' }, /^--shard auto: JOB_COMPLETION_INDEX is not set \(a Kubernetes Indexed Job sets it to the pod's 0-based index\): run in one, or give --shard I\/N$/],
    ['no count', { JOB_COMPLETION_INDEX: '1' }, /^--shard auto: JOB_COMPLETIONS is not set/],
    ['an empty index', { JOB_COMPLETION_INDEX: '', JOB_COMPLETIONS: '4' }, /^--shard auto: JOB_COMPLETION_INDEX: expected a whole number from 0 to JOB_COMPLETIONS - 1 \(3\), got ""$/],
    ['a 1-based index past the end', { JOB_COMPLETION_INDEX: '4', JOB_COMPLETIONS: '4' }, /^--shard auto: JOB_COMPLETION_INDEX: expected a whole number from 0 to JOB_COMPLETIONS - 1 \(3\), got "4"$/],
    ['a negative index', { JOB_COMPLETION_INDEX: '-1', JOB_COMPLETIONS: '4' }, /JOB_COMPLETION_INDEX: expected .*, got "-1"$/],
    ['a fractional index', { JOB_COMPLETION_INDEX: '1.5', JOB_COMPLETIONS: '4' }, /JOB_COMPLETION_INDEX: expected .*, got "1\.5"$/],
    ['an index with spaces', { JOB_COMPLETION_INDEX: ' 1', JOB_COMPLETIONS: '4' }, /JOB_COMPLETION_INDEX: expected .*, got " 1"$/],
    ['an index in hex', { JOB_COMPLETION_INDEX: '0x1', JOB_COMPLETIONS: '4' }, /JOB_COMPLETION_INDEX: expected .*, got "0x1"$/],
    ['a zero count', { JOB_COMPLETION_INDEX: '0', JOB_COMPLETIONS: '0' }, /^--shard auto: JOB_COMPLETIONS: expected a whole number >= 1 \(the Job's spec\.completions\), got "0"$/],
    ['a count that is not a number', { JOB_COMPLETION_INDEX: '0', JOB_COMPLETIONS: 'four' }, /JOB_COMPLETIONS: expected a whole number >= 1 .*, got "four"$/],
    ['a count past 2^53', { JOB_COMPLETION_INDEX: '0', JOB_COMPLETIONS: '99999999999999999999' }, /JOB_COMPLETIONS: expected a whole number >= 1 .*, got "99999999999999999999"$/],
  ];
  it.each(refused)('refuses %s', (_what, env, message) => {
    let error: unknown;
    try {
      shardFromEnvironment(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MigbenchError);
    expect((error as MigbenchError).code).toBe('E_USAGE');
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('the pods of an Indexed Job run every grid point exactly once', () => {
    const completions = 3;
    const seen = Array.from({ length: completions }, (_, i) => shardIndices(10, shardFromEnvironment({ JOB_COMPLETION_INDEX: String(i), JOB_COMPLETIONS: String(completions) }))).flat();
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });
});

describe('parseShard', () => {
  it('reads "auto" from the environment it is given, and I/N without it', () => {
    const env = { JOB_COMPLETION_INDEX: '1', JOB_COMPLETIONS: '3' };
    expect(parseShard('auto', env)).toEqual({ index: 2, count: 3 });
    expect(parseShard('1/2', env)).toEqual({ index: 1, count: 2 });
    expect(parseShard(undefined, env)).toBeNull();
    expect(() => parseShard('auto', {})).toThrow(/^--shard auto: JOB_COMPLETIONS is not set/);
    expect(() => parseShard('automatic', env)).toThrow(/^--shard: expected I\/N with 1 <= I <= N, e\.g\. 2\/4, or auto \(from JOB_COMPLETION_INDEX and JOB_COMPLETIONS\), got "automatic"$/);
  });
});
