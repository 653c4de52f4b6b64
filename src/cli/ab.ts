/**
 * `migbench ab --base GIT_REF [--head GIT_REF] SUITE [--runs N] [--warmup N] [--set key.path=value …]
 *  [--out-dir DIR] [--alpha 0.05] [--threshold 5%] [--metric-threshold downtime=10%]
 *  [--format text|markdown|json] [--fail-on regression|never] [--keep-worktrees]`
 *
 * A/B across commits on one machine: checks the base commit (and the head commit, when `--head` is
 * given; else the head is this checkout, as it is, uncommitted changes included) out in git worktrees
 * under a temporary directory, installs each (`npm ci`), then runs the suite one run per benchmark at a
 * time, interleaved: warm-up passes first (base, head; discarded), then base, head, base, head … so
 * that a drift of the machine (heat, load, a neighbour) falls on both sides alike. Each pass is
 * `node <tree>/bin/migbench.js suite SUITE --runs 1 --warmup 0 --out FILE --quiet`; the passes of a
 * side are merged into one suite result. Writes `base.json`, `head.json`, `comparison.md` and
 * `comparison.json` into the output directory, prints the comparison like `migbench compare`, and
 * exits like it: 1 when `--fail-on regression` and a regression was found, else 0; 2 for a bad command
 * line (`--runs` too few to ever reach significance at `--alpha` included), a bad ref, a suite a side
 * refuses, or (with `--fail-on regression`) a comparison where nothing could be tested; 3 when a pass crashed or a worktree could not be set up.
 * The worktrees are removed at the end, whatever happened (unless `--keep-worktrees`).
 */
import { spawn } from 'node:child_process';
import { interruptedWord, watchInterrupts } from './interrupt.ts';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkOutputs, writeOutputs } from './output-file.ts';
import { MigbenchError } from '../errors.ts';
import { PACKAGE_ROOT } from '../package-root.ts';
import { compareSuites, renderComparisonMarkdown } from '../results/compare.ts';
import { parseSuiteDocument, suiteDocumentToJson } from '../results/suite-document.ts';
import type { SuiteDocument } from '../results/suite-document.ts';
import { mergeSuiteDocuments } from '../results/suite-merge.ts';
import { minPossibleP, minSamplesForAlpha } from '../results/statistics.ts';
import { compareOptionsFrom, renderComparison, reportComparison } from './compare.ts';
import type { CompareCommandOptions } from './compare.ts';
import { overrideWarnings } from '../options.ts';
import { printWarnings } from './scenario-warnings.ts';

export interface AbCommandOptions extends CompareCommandOptions {
  /** the base commit: any git revision (branch, tag, sha, origin/main, HEAD~1) */
  base: string;
  /** the head commit; default: this checkout, as it is (uncommitted changes included) */
  head?: string;
  /** measured passes per side (each pass runs every benchmark once); a whole number >= 1, default "10" */
  runs: string;
  /** discarded warm-up passes per side, before the measured ones; a whole number >= 0, default "1" */
  warmup: string;
  /** `key.path=value` overrides for every scenario of the suite, passed to every pass */
  set: string[];
  /** where the result files go; default `./migbench-ab-<short base sha>-<short head sha>` */
  outDir?: string;
  /** leave the worktrees (and the raw pass files) in place, for a post-mortem */
  keepWorktrees?: boolean;
}

export interface AbIo {
  /** one progress line (default: to stderr) */
  log: (line: string) => void;
  /** the directory the command runs in: the git repository, relative paths (default: process.cwd()) */
  cwd?: string;
}

const DEFAULT_IO: AbIo = { log: (line) => process.stderr.write(`${line}\n`) };

/** This checkout's own command: the head when `--head` is not given. */
const OWN_BIN = fileURLToPath(new URL('bin/migbench.js', PACKAGE_ROOT));
const OWN_PACKAGE_DIR = fileURLToPath(PACKAGE_ROOT);

type Side = 'base' | 'head';

interface Tree {
  side: Side;
  /** full commit sha, or null for a working tree outside git history */
  commit: string | null;
  /** "abc1234", "abc1234+dirty", "working tree" */
  short: string;
  /** the checkout that runs: a worktree, or this checkout */
  dir: string;
  bin: string;
}

interface Exec {
  /** exit code; null when killed by a signal or not started */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** set when the program could not be started (ENOENT …) */
  startError: string | null;
}

/** After SIGTERM, how long a stopped program's process group may take to end before it gets SIGKILL (a hang guard). */
const STOP_GRACE_MS = 30_000;
/** Output kept per stream (the rest is dropped). */
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

/**
 * Run a program (no shell), collecting its output; never rejects. The program runs in a process group
 * of its own: when `signal` aborts, the whole group gets SIGTERM (which `migbench suite` handles: it
 * stops its run and exits 143; npm passes it on), and this resolves only once the program has exited,
 * so nothing is still running in a worktree when it is removed.
 */
function exec(file: string, args: readonly string[], cwd: string, signal?: AbortSignal): Promise<Exec> {
  return new Promise((done) => {
    if (signal?.aborted) return done({ code: null, signal: 'SIGTERM', stdout: '', stderr: '', startError: null });
    const child = spawn(file, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const collect = (stream: NodeJS.ReadableStream | null): (() => string) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      stream?.on('data', (d: Buffer) => {
        if (bytes + d.length <= MAX_OUTPUT_BYTES) chunks.push(d);
        bytes += d.length;
      });
      return () => Buffer.concat(chunks).toString('utf8');
    };
    const stdout = collect(child.stdout);
    const stderr = collect(child.stderr);
    let startError: string | null = null;
    let killTimer: NodeJS.Timeout | null = null;
    const group = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // the group is gone already
      }
    };
    const stop = (): void => {
      group('SIGTERM');
      killTimer = setTimeout(() => group('SIGKILL'), STOP_GRACE_MS);
    };
    signal?.addEventListener('abort', stop, { once: true });
    let finished = false;
    const finish = (code: number | null, sig: NodeJS.Signals | null): void => {
      if (finished) return;
      finished = true;
      signal?.removeEventListener('abort', stop);
      if (killTimer !== null) clearTimeout(killTimer);
      done({ code, signal: sig, stdout: stdout(), stderr: stderr(), startError });
    };
    child.on('error', (error: NodeJS.ErrnoException) => {
      startError = `${error.code ?? 'error'}: ${error.message}`;
      if (child.pid === undefined) finish(null, null); // never started: no exit to wait for
    });
    child.on('close', (code, sig) => finish(code, sig));
  });
}

/** The last `max` non-empty lines of a program's output, for a one-screen error message. */
function tail(text: string, max = 20): string[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  return lines.length > max ? [`… (${lines.length - max} lines above)`, ...lines.slice(-max)] : lines;
}

function whole(flag: string, text: string, min: number): number {
  const t = text.trim();
  const v = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!(Number.isSafeInteger(v) && v >= min && v <= 10_000)) {
    const what = min === 1 ? 'a whole number of passes per side, from 1 to 10000' : 'a whole number of passes per side, from 0 to 10000';
    throw new MigbenchError('E_USAGE', `${flag}: expected ${what}, got ${JSON.stringify(text)}`);
  }
  return v;
}

function duration(ms: number): string {
  const s = ms / 1000;
  if (s < 90) return `${Math.max(1, Math.round(s))} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function sameDir(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return resolve(a) === resolve(b);
  }
}

/** Run `migbench ab`; resolves to the exit code (see the module comment). */
export async function abCommand(suitePath: string, options: AbCommandOptions, io: AbIo = DEFAULT_IO): Promise<number> {
  const log = io.log;
  const cwd = io.cwd ?? process.cwd();

  // Refuse a bad command line before touching git or the disk.
  const runs = whole('--runs', options.runs, 1);
  const warmup = whole('--warmup', options.warmup, 0);
  const labels = { base: 'base', head: 'head' };
  const { alpha } = compareOptionsFrom(options, labels);
  // A U test of n against n samples cannot give p below 2/C(2n, n): too few runs could never show a change.
  if (minPossibleP(runs, runs) >= alpha) {
    throw new MigbenchError(
      'E_USAGE',
      `--runs: ${runs} run${runs === 1 ? '' : 's'} per side cannot reach significance at --alpha ${alpha} (the Mann-Whitney U test needs at least ${minSamplesForAlpha(alpha)}), got ${runs}`,
    );
  }
  for (const s of options.set) {
    if (s.indexOf('=') <= 0) throw new MigbenchError('E_USAGE', `--set: expected key.path=value, got ${JSON.stringify(s)}`);
  }
  // the passes run `suite --quiet`: the warning about a bare-number rate is said here, once
  printWarnings(overrideWarnings(options.set));
  for (const [flag, ref] of [['--base', options.base], ['--head', options.head]] as const) {
    if (ref !== undefined && (ref.trim() === '' || ref.startsWith('-'))) {
      throw new MigbenchError('E_USAGE', `${flag}: expected a git revision (a branch, tag or commit), got ${JSON.stringify(ref)}`);
    }
  }
  const suite = resolve(cwd, suitePath);
  let isFile = false;
  try {
    isFile = statSync(suite).isFile();
  } catch {
    throw new MigbenchError('E_USAGE', `${suitePath}: cannot read the suite file (file not found)`);
  }
  if (!isFile) throw new MigbenchError('E_USAGE', `${suitePath}: not a suite file (a directory?)`);

  const git = async (args: string[], dir: string): Promise<string | null> => {
    const r = await exec('git', args, dir);
    if (r.startError !== null) throw new MigbenchError('E_USAGE', `ab: cannot run git (${r.startError}); migbench ab needs git on the PATH`);
    return r.code === 0 ? r.stdout.trim() : null;
  };

  const top = await git(['rev-parse', '--show-toplevel'], cwd);
  if (top === null || top === '') {
    throw new MigbenchError('E_USAGE', `ab: ${cwd} is not inside a git repository (ab checks the commits out of the repository it runs in)`);
  }
  const commitOf = async (flag: string, ref: string): Promise<string> => {
    const sha = await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], top);
    if (sha === null || sha === '') {
      throw new MigbenchError('E_USAGE', `${flag}: "${ref}" is not a commit of the repository ${top} (a typo, or a branch not fetched? CI checkouts need fetch-depth: 0)`);
    }
    return sha;
  };
  const baseSha = await commitOf('--base', options.base);
  const headSha = options.head === undefined ? null : await commitOf('--head', options.head);

  // Without --head, the head is this checkout as it is.
  let ownCommit: string | null = null;
  let ownDirty = false;
  if (headSha === null) {
    ownCommit = await git(['rev-parse', 'HEAD'], OWN_PACKAGE_DIR);
    ownDirty = ownCommit !== null && ((await git(['status', '--porcelain', '--untracked-files=no'], OWN_PACKAGE_DIR)) ?? '') !== '';
    if (!sameDir(top, (await git(['rev-parse', '--show-toplevel'], OWN_PACKAGE_DIR)) ?? OWN_PACKAGE_DIR)) {
      log(`note: the head is the migbench that runs this command (${OWN_PACKAGE_DIR}), not a checkout of ${top}`);
    }
  }
  const shortOf = (sha: string): string => sha.slice(0, 7);
  const headShort = headSha !== null ? shortOf(headSha) : ownCommit === null ? 'working tree' : `${shortOf(ownCommit)}${ownDirty ? '+dirty' : ''}`;
  const headName = headSha !== null ? shortOf(headSha) : ownCommit === null ? 'worktree' : `${shortOf(ownCommit)}${ownDirty ? '-dirty' : ''}`;

  const outDir = resolve(cwd, options.outDir ?? `migbench-ab-${shortOf(baseSha)}-${headName}`);
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (error) {
    throw new MigbenchError('E_IO', `--out-dir ${outDir}: cannot create it (${(error as Error).message})`);
  }
  // The four result files go through the one output writer: refused now (a device, FIFO, link or folder
  // where a file goes) rather than after every pass; written all or none at the end.
  const outNames = ['base.json', 'head.json', 'comparison.md', 'comparison.json'] as const;
  checkOutputs(outNames.map((name) => ({ flag: '--out-dir', path: join(outDir, name) })));

  // Ctrl-C or SIGTERM: stop the running pass (its process group gets SIGTERM; it is waited for), remove
  // the worktrees and their `git worktree list` entries, exit 130 / 143.
  const interrupts = watchInterrupts((signal) => log(`${interruptedWord(signal)}: stopping the running pass and removing the worktrees`));
  const abort = { signal: interrupts.signal };
  const checkInterrupted = (): void => {
    if (abort.signal.aborted) throw new MigbenchError('E_INTERRUPTED', `ab: ${interruptedWord(interrupts.received)}`);
  };

  const tmp = mkdtempSync(join(tmpdir(), 'migbench-ab-'));
  const worktrees: string[] = [];
  try {
    const checkout = async (side: Side, sha: string): Promise<Tree> => {
      const dir = join(tmp, side);
      const short = shortOf(sha);
      log(`checking out ${side} (${short}) into ${dir}`);
      // not stopped by a signal: a worktree half added would be neither usable nor removable
      const add = await exec('git', ['worktree', 'add', '--detach', dir, sha], top);
      if (add.code === 0) worktrees.push(dir);
      checkInterrupted();
      if (add.code !== 0) {
        for (const line of tail(`${add.stdout}\n${add.stderr}`)) log(`  ${line}`);
        throw new MigbenchError('E_IO', `ab: git worktree add for the ${side} (${short}) failed${add.code === null ? '' : ` with exit code ${add.code}`}; its output is above`);
      }
      const bin = join(dir, 'bin', 'migbench.js');
      if (!existsSync(bin)) {
        throw new MigbenchError('E_USAGE', `--${side} ${short}: that commit has no bin/migbench.js (migbench ab compares two commits of migbench itself)`);
      }
      log(`installing ${side} (${short}): npm ci`);
      const npm = await exec('npm', ['ci', '--no-audit', '--no-fund'], dir, abort.signal);
      checkInterrupted();
      if (npm.code !== 0) {
        for (const line of tail(`${npm.stdout}\n${npm.stderr}`, 40)) log(`  ${line}`);
        const why = npm.startError !== null ? ` (${npm.startError})` : npm.code === null ? ` (killed by ${npm.signal})` : ` with exit code ${npm.code}`;
        throw new MigbenchError('E_IO', `ab: npm ci in the ${side} worktree (${short}) failed${why}; its output is above`);
      }
      return { side, commit: sha, short, dir, bin };
    };

    const base = await checkout('base', baseSha);
    const head: Tree = headSha !== null ? await checkout('head', headSha) : { side: 'head', commit: ownCommit, short: headShort, dir: OWN_PACKAGE_DIR, bin: OWN_BIN };
    if (headSha === null) log(`head is this checkout (${headShort}): ${OWN_PACKAGE_DIR}`);

    const setArgs = options.set.flatMap((s) => ['--set', s]);
    const passDir = join(tmp, 'passes');
    mkdirSync(passDir);
    /** Run one pass; the suite document, or the exit code of a crash. */
    const runPass = async (tree: Tree, name: string, file: string): Promise<SuiteDocument | number> => {
      const args = [tree.bin, 'suite', suite, '--runs', '1', '--warmup', '0', '--out', file, '--quiet', ...setArgs];
      const r = await exec(process.execPath, args, cwd, abort.signal);
      checkInterrupted();
      const where = `${tree.side} (${tree.short}), ${name}`;
      if (r.code !== 0) {
        const how = r.startError !== null ? `could not start (${r.startError})` : r.code === null ? `was killed by ${r.signal}` : `exited with code ${r.code}`;
        const lines = tail(r.stderr);
        if (r.code === 2) {
          // The side refused the suite or the command line (an unknown key, no `suite` command yet …).
          throw new MigbenchError('E_USAGE', `ab: ${where}: migbench suite ${how}: ${lines.join(' / ') || 'no message'}`);
        }
        for (const line of lines) log(`  ${line}`);
        log(`error: ab: ${where}: migbench suite ${how}; stopped (its last lines are above)`);
        return 3;
      }
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        log(`error: ab: ${where}: migbench suite exited 0 but wrote no result (${(error as Error).message})`);
        return 3;
      }
      return parseSuiteDocument(text, `${where}`);
    };

    for (let i = 1; i <= warmup; i++) {
      for (const [k, tree] of [[2 * i - 1, base], [2 * i, head]] as const) {
        log(`warm-up ${k}/${2 * warmup} ${tree.side} (${tree.short})`);
        const r = await runPass(tree, `warm-up ${k}/${2 * warmup}`, join(passDir, `warmup-${k}-${tree.side}.json`));
        if (typeof r === 'number') return r;
      }
    }

    const passes: Record<Side, SuiteDocument[]> = { base: [], head: [] };
    const total = 2 * runs;
    const started = Date.now();
    for (let i = 1; i <= runs; i++) {
      for (const [k, tree] of [[2 * i - 1, base], [2 * i, head]] as const) {
        const done = k - 1;
        const eta = done === 0 ? '' : `, about ${duration(((Date.now() - started) / done) * (total - done))} left`;
        log(`pass ${k}/${total} ${tree.side} (${tree.short})${eta}`);
        const r = await runPass(tree, `pass ${k}/${total}`, join(passDir, `pass-${k}-${tree.side}.json`));
        if (typeof r === 'number') return r;
        passes[tree.side].push(r);
      }
    }

    // One result per side, as if one `migbench suite --runs N --warmup W` had measured it.
    const baseDoc: SuiteDocument = { ...mergeSuiteDocuments(passes.base, 'base'), warmup };
    const headDoc: SuiteDocument = { ...mergeSuiteDocuments(passes.head, 'head'), warmup };
    const comparison = compareSuites(baseDoc, headDoc, compareOptionsFrom(options, labels));
    const texts: Record<(typeof outNames)[number], string> = {
      'base.json': `${suiteDocumentToJson(baseDoc)}\n`,
      'head.json': `${suiteDocumentToJson(headDoc)}\n`,
      'comparison.md': renderComparisonMarkdown(comparison),
      'comparison.json': `${renderComparison(comparison, 'json')}\n`,
    };
    const files = outNames.map((name) => [name, texts[name]] as const);
    writeOutputs(files.map(([name, text]) => ({ flag: '--out-dir', path: join(outDir, name), text })));
    log(`wrote ${files.map(([name]) => name).join(', ')} in ${relative(cwd, outDir) || '.'}`);
    return reportComparison(baseDoc, headDoc, options, labels);
  } catch (error) {
    if (error instanceof MigbenchError && error.code === 'E_INTERRUPTED' && interrupts.received !== null) {
      log(error.message);
      return interrupts.exitCode;
    }
    throw error;
  } finally {
    interrupts.dispose();
    if (options.keepWorktrees) {
      if (worktrees.length > 0) log(`kept the worktrees ${worktrees.join(', ')} (remove them with: git worktree remove --force DIR)`);
      log(`kept the pass results in ${join(tmp, 'passes')}`);
    } else {
      let failed = false;
      for (const dir of worktrees) {
        const r = await exec('git', ['worktree', 'remove', '--force', dir], top);
        if (r.code !== 0) {
          log(`warning: git worktree remove ${dir} failed (${tail(r.stderr, 3).join(' / ')}); deleting it and pruning`);
          failed = true;
        }
      }
      rmSync(tmp, { recursive: true, force: true });
      if (failed) await exec('git', ['worktree', 'prune'], top);
    }
  }
}
