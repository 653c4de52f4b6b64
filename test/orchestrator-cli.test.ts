/**
 * The orchestrator on the command line: one terminal line per action after the summary (pure lines,
 * escaped), `run --mode simulate` with an orchestrator (exit 0, the document's actions), and the
 * refusals of what a mode cannot run (exit 2, one line). Hang guard: each CLI run has a 120 s timeout.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { orchestratorLines } from '../src/cli/orchestrator-lines.ts';
import { colorsFor } from '../src/report/style.ts';
import type { PrecopyResult } from '../src/results/document.ts';

const BIN = fileURLToPath(new URL('../bin/migbench.js', import.meta.url));
const plain = colorsFor({ isTTY: false } as NodeJS.WriteStream, { NO_COLOR: '1' });
const migbench = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });

describe('orchestratorLines', () => {
  it('says what it set at the start and one line per action; nothing without an orchestrator', () => {
    const p = {
      orchestrator: {
        kind: 'kubevirt',
        start: { maxBandwidthBytesPerSec: 64 * 2 ** 20, autoConverge: true, postcopy: true },
        actions: [
          { atMs: 75_000, action: 'set-downtime', reason: null, before: 50, after: 95 },
          { atMs: 751_200, action: 'postcopy', reason: 'completion-timeout\u001b[31m', before: 'precopy', after: 'postcopy' },
        ],
      },
    } as unknown as PrecopyResult;
    const lines = orchestratorLines(p, plain);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^orchestrator {2}kubevirt; at the start: max-bandwidth .*, auto-converge on, postcopy-ram on; 2 actions$/);
    expect(lines[1]).toBe('     75.0 s  downtime limit 50.0 ms → 95.0 ms');
    expect(lines[2]).toMatch(/switch to post-copy \(completion-timeout\?\[31m\)$/); // no escape sequence reaches the terminal
    expect(orchestratorLines({} as PrecopyResult, plain)).toEqual([]);
  });
});

describe('migbench run with an orchestrator', () => {
  it('simulate mode: virsh --timeout 1 pauses the guest; the line and the document say so', () => {
    const sets = ['guest.memory=8MiB', 'workload.workingSet=4MiB', 'workload.hotFraction=1', 'workload.dirtyRate=5000/s', 'link.bandwidth=4MiB/s', 'precopy.downtimeLimitMs=50', 'orchestrator.kind=virsh', 'orchestrator.timeout=1'];
    const r = migbench(['run', '--mode', 'simulate', '--only', 'precopy', '--json', ...sets.flatMap((s) => ['--set', s])]);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { precopy: PrecopyResult; scenario: { orchestrator: unknown } };
    expect([doc.precopy.outcome, doc.precopy.reason]).toEqual(['paused', 'timeout']);
    expect(doc.scenario.orchestrator).toEqual({ kind: 'virsh', timeout: 1, timeoutAction: 'suspend' });
    expect(doc.precopy.orchestrator!.actions.map((a) => a.action)).toEqual(['pause']);
    expect(r.stderr).toMatch(/\norchestrator {2}virsh; 1 action\n +1\.\d+ s {2}pause the guest to finish \(timeout\): a stop-and-copy of everything left\n/);
  });

  it('sweep takes orchestrator settings as axes (issue 19 item 4): each budget aborts at its own time', () => {
    const sets = ['guest.memory=8MiB', 'workload.workingSet=4MiB', 'workload.hotFraction=1', 'workload.dirtyRate=5000/s', 'link.bandwidth=4MiB/s', 'precopy.downtimeLimitMs=50', 'orchestrator.kind=kubevirt'];
    const r = migbench(['sweep', '--mode', 'simulate', '--jobs', '1', ...sets.flatMap((s) => ['--set', s]), '--param', 'orchestrator.completionTimeoutPerGiB=1,3']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\[1\/2\] orchestrator\.completionTimeoutPerGiB=1: aborted \(completion-timeout\)/);
    expect(r.stderr).toMatch(/\[2\/2\] orchestrator\.completionTimeoutPerGiB=3: aborted \(completion-timeout\)/);
  });

  it.each([
    [['predict', '--set', 'orchestrator.kind=kubevirt'], 'error: orchestrator.kind: not modelled by predict yet (run it with --mode simulate or emulate), got "kubevirt"'],
    [
      ['run', '--only', 'precopy', '--set', 'link.transport=tcp', '--set', 'link.target=127.0.0.1:9', '--set', 'orchestrator.kind=kubevirt', '--set', 'orchestrator.allowPostCopy=true'],
      'error: orchestrator.allowPostCopy: the orchestrator may switch to post-copy, which cannot run here (link.transport: post-copy runs on the memory transport only for now (its request lane is not carried over tcp yet), got "tcp")',
    ],
    [['run', '--set', 'orchestrator.kind=nova', '--set', 'orchestrator.allowPostCopy=true'], 'error: orchestrator.allowPostCopy: a kubevirt setting, but orchestrator.kind is "nova", got true'],
  ])('%j: exit 2, one line', (args, line) => {
    const r = migbench(args);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(line);
  });
});
