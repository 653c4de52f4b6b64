/**
 * The "Past one machine" examples, parsed with a YAML library, checked for the structure that makes them
 * work, and then run here as their runner would run them:
 * - examples/ci/sweep-matrix.yml (GitHub Actions): every matrix job's `run:` steps in bash with its
 *   `${{ … }}` values, artifacts carried from the upload steps to the download step, then the merge job;
 * - examples/k8s/sweep-job.yaml (an Indexed Job) and merge-job.yaml: every pod's command with its
 *   JOB_COMPLETION_INDEX and the template's env, `$(VAR)` expanded as Kubernetes does, the volume a folder.
 * `npx migbench` / `migbench` are this checkout's bin/migbench.js (shims on PATH). In both, the merged
 * sweep must equal the unsharded sweep of the same command, apart from its timestamps.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import type { SweepDocument } from '../src/results/sweep-types.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin/migbench.js');
const RUN_TIMEOUT_MS = 120_000; // hang guard for every child process
const TEST_TIMEOUT_MS = 300_000;

const dir = mkdtempSync(join(tmpdir(), 'migbench-shard-examples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Shims on PATH: `npx migbench …` and `migbench …` run this checkout; `npm ci` finds it installed already. */
const shims = join(dir, 'bin');
mkdirSync(shims);
const shim = (name: string, body: string): void => {
  writeFileSync(join(shims, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(shims, name), 0o755);
};
const runMigbench = `exec '${process.execPath}' '${BIN}' "$@"`;
shim('migbench', runMigbench);
shim('npx', `if [ "$1" != migbench ]; then echo "test shim: npx runs only migbench here, got $1" >&2; exit 127; fi\nshift\n${runMigbench}`);
shim('npm', `if [ "$1 $#" != "ci 1" ]; then echo "test shim: npm ci only, got $*" >&2; exit 127; fi`);
const childEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', PATH: `${shims}:${process.env.PATH ?? ''}`, ...extra };
  if (!('JOB_COMPLETION_INDEX' in extra)) delete env.JOB_COMPLETION_INDEX;
  if (!('JOB_COMPLETIONS' in extra)) delete env.JOB_COMPLETIONS;
  return env;
};

function ok(r: SpawnSyncReturns<string>, what: string): void {
  if (r.error || r.status !== 0) throw new Error(`${what}: exit ${r.status} ${r.signal ?? ''} ${r.error?.message ?? ''}\n${r.stderr}`);
}

/** A shell script as GitHub runs a `run:` step without `shell:` on Linux (`bash -e {0}`). */
function bash(script: string, cwd: string, env: NodeJS.ProcessEnv, what: string): void {
  ok(spawnSync('bash', ['-e', '-c', script], { cwd, env, encoding: 'utf8', timeout: RUN_TIMEOUT_MS }), what);
}

const readSweep = (path: string): SweepDocument => JSON.parse(readFileSync(path, 'utf8')) as SweepDocument;

/** A sweep document without what differs from run to run of the same sweep (when and where it ran). */
function figures(doc: SweepDocument): Omit<SweepDocument, 'startedAt' | 'finishedAt' | 'env'> {
  const { startedAt: _s, finishedAt: _f, env: _e, ...rest } = doc;
  return rest;
}

// ---------------------------------------------------------------- GitHub Actions

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string | string[];
  strategy?: { matrix?: Record<string, unknown> };
  steps: Step[];
}

/** `${{ expr }}` replaced from `values`; an expression the test does not know fails the test. */
function expandExpressions(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{\{\s*(.+?)\s*\}\}/g, (_m, expr: string) => {
    if (!(expr in values)) throw new Error(`an expression the test does not provide: \${{ ${expr} }} in ${JSON.stringify(text)}`);
    return values[expr];
  });
}

/** A glob with `*` (as actions/download-artifact's `pattern`) as a regular expression. */
const globRegExp = (glob: string): RegExp => new RegExp(`^${glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

/**
 * Run one job's steps in `workdir`: `run:` in bash, checkout and setup-node as no-ops (this checkout is
 * built; this Node), upload/download-artifact through `artifacts` (a folder per artifact name).
 */
function runJob(job: Job, values: Record<string, string>, workdir: string, artifacts: string, summary: string): void {
  mkdirSync(workdir, { recursive: true });
  for (const step of job.steps) {
    const what = `${step.name ?? step.uses ?? step.run} (${JSON.stringify(values)})`;
    if (step.run !== undefined) {
      bash(expandExpressions(step.run, values), workdir, childEnv({ GITHUB_STEP_SUMMARY: summary }), what);
    } else if (/^actions\/(checkout|setup-node)@/.test(step.uses ?? '')) {
      continue;
    } else if (/^actions\/upload-artifact@/.test(step.uses ?? '')) {
      const name = expandExpressions(String(step.with?.name), values);
      const paths = expandExpressions(String(step.with?.path), values).split('\n').map((s) => s.trim()).filter(Boolean);
      expect(existsSync(join(artifacts, name)), `artifact ${name} uploaded twice`).toBe(false);
      mkdirSync(join(artifacts, name), { recursive: true });
      for (const p of paths) {
        expect(existsSync(join(workdir, p)), `${what}: ${p} was not written`).toBe(true);
        copyFileSync(join(workdir, p), join(artifacts, name, basename(p)));
      }
    } else if (/^actions\/download-artifact@/.test(step.uses ?? '')) {
      expect(step.with?.['merge-multiple']).toBe(true);
      const pattern = globRegExp(String(step.with?.pattern));
      const into = join(workdir, String(step.with?.path));
      mkdirSync(into, { recursive: true });
      for (const name of readdirSync(artifacts).filter((n) => pattern.test(n))) {
        for (const file of readdirSync(join(artifacts, name))) copyFileSync(join(artifacts, name, file), join(into, file));
      }
    } else {
      throw new Error(`an action the test does not emulate: ${step.uses}`);
    }
  }
}

describe('examples/ci/sweep-matrix.yml', () => {
  const workflow = parse(readFileSync(join(ROOT, 'examples/ci/sweep-matrix.yml'), 'utf8')) as { on: unknown; jobs: Record<string, Job> };
  const shardJob = workflow.jobs.sweep;
  const mergeJob = workflow.jobs.merge;
  const shards = (shardJob?.strategy?.matrix?.shard ?? []) as unknown[];
  const sweepStep = shardJob?.steps.find((s) => s.run?.includes('migbench sweep'));
  // the values GitHub gives a matrix job; strategy.job-total is the number of matrix combinations
  const valuesOf = (shard: unknown): Record<string, string> => ({ 'matrix.shard': String(shard), 'strategy.job-total': String(shards.length) });

  it('is a matrix of N shards, each job running its own slice into its own artifact, then a merge job that needs them', () => {
    expect(Object.keys(shardJob.strategy!.matrix!)).toEqual(['shard']); // so job-total is the number of shards
    expect(shards.length).toBeGreaterThanOrEqual(2);
    expect(shards).toEqual(Array.from({ length: shards.length }, (_, i) => i + 1));
    expect(sweepStep).toBeDefined();
    const upload = shardJob.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'))!;
    const outs = new Set<string>();
    const names = new Set<string>();
    for (const shard of shards) {
      const command = expandExpressions(sweepStep!.run!, valuesOf(shard));
      expect(command).toContain(`--shard ${shard}/${shards.length}`);
      const out = /--out (\S+)/.exec(command)?.[1];
      expect(out).toBeDefined();
      outs.add(out!);
      expect(expandExpressions(String(upload.with?.path), valuesOf(shard))).toBe(out);
      names.add(expandExpressions(String(upload.with?.name), valuesOf(shard)));
    }
    expect(outs.size).toBe(shards.length);
    expect(names.size).toBe(shards.length);
    expect([mergeJob.needs].flat()).toContain('sweep');
    const download = mergeJob.steps.find((s) => s.uses?.startsWith('actions/download-artifact@'))!;
    for (const name of names) expect(name).toMatch(globRegExp(String(download.with?.pattern)));
    const runs = mergeJob.steps.map((s) => s.run ?? '').join('\n');
    expect(runs).toMatch(/npx migbench merge /);
    expect(runs).toMatch(/npx migbench report \S+ --html (\S+)/);
    const html = /--html (\S+)/.exec(runs)![1];
    const lastUpload = mergeJob.steps.filter((s) => s.uses?.startsWith('actions/upload-artifact@')).at(-1)!;
    expect(String(lastUpload.with?.path).split('\n').map((s) => s.trim())).toContain(html);
  });

  it('run as the runner would: the shards merged equal the unsharded sweep, and the report is written', () => {
    const root = join(dir, 'gha');
    const artifacts = join(root, 'artifacts');
    mkdirSync(artifacts, { recursive: true });
    const summary = join(root, 'summary.md');
    writeFileSync(summary, '');
    for (const shard of shards) runJob(shardJob, valuesOf(shard), join(root, `sweep-${shard}`), artifacts, summary);
    runJob(mergeJob, {}, join(root, 'merge'), artifacts, summary);

    // the same sweep command, without --shard, on one machine
    const whole = expandExpressions(sweepStep!.run!, valuesOf(shards[0])).replace(/ --shard \S+/, '').replace(/ --out \S+/, ' --out whole.json');
    bash(whole, root, childEnv(), 'the unsharded sweep');
    const expected = readSweep(join(root, 'whole.json'));
    const html = /--html (\S+)/.exec(mergeJob.steps.map((s) => s.run ?? '').join('\n'))![1];
    const merged = readSweep(join(root, 'merge', 'sweep.json'));
    expect(expected.points.length).toBe(expected.gridPoints);
    expect(merged.shard).toBeNull();
    expect(figures(merged)).toEqual(figures(expected));
    expect(readFileSync(join(artifacts, 'sweep-report', basename(html)), 'utf8')).toMatch(/^<!doctype html>/i);
    expect(readFileSync(summary, 'utf8')).not.toBe('');
  }, TEST_TIMEOUT_MS);
});

// ---------------------------------------------------------------- Kubernetes

interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface K8sJob {
  kind: 'Job';
  metadata: { name: string };
  spec: {
    completionMode?: string;
    completions?: number;
    parallelism?: number;
    template: { spec: { restartPolicy: string; containers: Container[]; volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[] } };
  };
}

/** Kubernetes' expansion of command and args: `$(VAR)` from the container's env, `$$` for `$`, unknown references kept. */
const expandK8s = (text: string, env: Record<string, string>): string =>
  text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => (m === '$$' ? '$' : name! in env ? env[name!] : m));

/** The claim behind a container's mount, and the mount's path. */
function mountOf(job: K8sJob, container: Container): { mountPath: string; claimName: string } {
  expect(container.volumeMounts).toHaveLength(1);
  const mount = container.volumeMounts![0];
  const volume = job.spec.template.spec.volumes?.find((v) => v.name === mount.name);
  expect(volume?.persistentVolumeClaim?.claimName).toBeDefined();
  return { mountPath: mount.mountPath, claimName: volume!.persistentVolumeClaim!.claimName };
}

describe('examples/k8s/sweep-job.yaml and merge-job.yaml', () => {
  const sweepDocs = parseAllDocuments(readFileSync(join(ROOT, 'examples/k8s/sweep-job.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
  const mergeDocs = parseAllDocuments(readFileSync(join(ROOT, 'examples/k8s/merge-job.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string });
  const job = sweepDocs.find((d) => d.kind === 'Job') as unknown as K8sJob;
  const mergeJob = mergeDocs.find((d) => d.kind === 'Job') as unknown as K8sJob;
  const container = job.spec.template.spec.containers[0];
  const N = job.spec.completions!;
  const containerEnv = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? '']));
  /** The pod's argv, as Kubernetes starts it in the pod with index `index`. */
  const podArgv = (index: number): string[] => [...(container.command ?? []), ...(container.args ?? [])].map((a) => expandK8s(a, { ...containerEnv, JOB_COMPLETION_INDEX: String(index) }));

  it('is an Indexed Job of N pods at once, each running `sweep --shard auto` into its own file on a claim the merge Job mounts', () => {
    expect(job.spec.completionMode).toBe('Indexed');
    expect(N).toBeGreaterThanOrEqual(2);
    expect(job.spec.parallelism).toBe(N);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(job.spec.template.spec.containers).toHaveLength(1);
    const argv = podArgv(0);
    expect(argv.slice(0, 2)).toEqual(['migbench', 'sweep']);
    expect(argv[argv.indexOf('--shard') + 1]).toBe('auto');
    expect(containerEnv.JOB_COMPLETIONS).toBe(String(N)); // Kubernetes sets only the index
    const { mountPath, claimName } = mountOf(job, container);
    const outs = Array.from({ length: N }, (_, i) => podArgv(i)[podArgv(i).indexOf('--out') + 1]);
    expect(new Set(outs).size).toBe(N);
    for (const out of outs) expect(out.startsWith(`${mountPath}/`)).toBe(true);
    expect(sweepDocs.find((d) => d.kind === 'PersistentVolumeClaim')?.metadata.name).toBe(claimName);
    const mergeContainer = mergeJob.spec.template.spec.containers[0];
    expect(mountOf(mergeJob, mergeContainer)).toEqual({ mountPath, claimName });
    expect(mergeContainer.command?.slice(0, 2)).toEqual(['sh', '-c']);
    expect(mergeContainer.command?.[2]).toMatch(/migbench merge .* && migbench report .*--html /);
  });

  it('run as the cluster would: the pods\' shards merged equal the unsharded sweep, and the report is written', () => {
    const volume = join(dir, 'k8s-volume');
    mkdirSync(volume);
    const { mountPath } = mountOf(job, container);
    const onVolume = (a: string): string => (a.startsWith(`${mountPath}/`) ? join(volume, a.slice(mountPath.length + 1)) : a);
    for (let index = 0; index < N; index++) {
      const [command, ...args] = podArgv(index).map(onVolume);
      expect(command).toBe('migbench');
      const env = childEnv({ ...containerEnv, JOB_COMPLETION_INDEX: String(index) });
      ok(spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env, encoding: 'utf8', timeout: RUN_TIMEOUT_MS }), `pod ${index}`);
    }
    const mergeContainer = mergeJob.spec.template.spec.containers[0];
    const mergeMount = mountOf(mergeJob, mergeContainer).mountPath;
    const script = mergeContainer.command![2].replaceAll(`${mergeMount}/`, `${volume}/`);
    ok(spawnSync('sh', ['-c', script], { cwd: dir, env: childEnv(), encoding: 'utf8', timeout: RUN_TIMEOUT_MS }), 'the merge Job');

    // the pods' command without --shard auto, on one machine
    const args = podArgv(0).slice(1);
    const at = args.indexOf('--shard');
    args.splice(at, 2);
    args[args.indexOf('--out') + 1] = join(dir, 'k8s-whole.json');
    ok(spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env: childEnv(), encoding: 'utf8', timeout: RUN_TIMEOUT_MS }), 'the unsharded sweep');
    const expected = readSweep(join(dir, 'k8s-whole.json'));
    const merged = readSweep(join(volume, 'sweep.json'));
    expect(expected.points.length).toBe(expected.gridPoints);
    expect(merged.shard).toBeNull();
    expect(figures(merged)).toEqual(figures(expected));
    const html = /--html (\S+)/.exec(script)![1];
    expect(readFileSync(html, 'utf8')).toMatch(/^<!doctype html>/i);
  }, TEST_TIMEOUT_MS);

  it('a pod without JOB_COMPLETIONS in its template fails at once: one line naming the variable, exit 2', () => {
    const args = podArgv(0).slice(1).map((a) => (a.endsWith('.json') ? join(dir, 'never.json') : a));
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env: childEnv({ JOB_COMPLETION_INDEX: '0' }), encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error: --shard auto: JOB_COMPLETIONS is not set/)]);
    expect(existsSync(join(dir, 'never.json'))).toBe(false);
  });
});
