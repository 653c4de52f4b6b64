/**
 * The command line: parses arguments (commander), runs a command, maps errors to exit codes
 * (0 done, 1 a compare gate found a regression, 2 usage or scenario error, 3 a crash or a failed
 * verification, 130 interrupted by Ctrl-C, 143 by SIGTERM). The only place that calls process.exit.
 */
import { Command, CommanderError, Option } from 'commander';
import { exitCodeFor, isMigbenchError } from '../errors.ts';
import { VERSION } from '../version.ts';
import { colorsFor } from '../report/style.ts';
import { abCommand, type AbCommandOptions } from './ab.ts';
import { compareCommand, type CompareCommandOptions } from './compare.ts';
import { imageInspectCommand } from './image.ts';
import { predictCommand } from './predict.ts';
import { fitCommand, type FitCommandOptions } from './fit.ts';
import { reportCommand } from './report.ts';
import { suiteCommand, type SuiteCommandOptions } from './suite.ts';
import { mergeCommand, sweepCommand, tuneCommand, type SweepCommandOptions, type TuneCommandOptions } from './sweep.ts';
import { runCommand } from './run.ts';
import { DEFAULT_LISTEN, receiveCommand, type ReceiveCommandOptions } from './receive.ts';
import { setQuitAtOnce } from './interrupt.ts';
import { liveWorkers } from '../threads.ts';
import { removeUnfinishedImagesSync } from '../quick/image-file.ts';
import { exitCodeAfterStdout, stdoutErrorLine, watchStdout } from './stdout-errors.ts';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Run the CLI with these arguments; resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let code = 0;
  const program = new Command();
  program
    .name('migbench')
    .description('Pre-copy live-migration benchmark: real vCPU threads dirty guest memory while it migrates, verified byte for byte.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });

  program
    .command('run')
    .description('migrate one scenario with pre-copy and with quick migration, verify both, report them side by side (the built-in default scenario when none is given)')
    .argument('[scenario]', 'scenario JSON file')
    .addOption(new Option('--set <key.path=value>', 'override a scenario key (repeatable), e.g. --set workload.dirtyRate=50000/s').argParser(collect).default([]))
    .option('--json', 'print the result document (JSON) on stdout', false)
    .option('--out <file>', 'write the result document to a file')
    .option('--only <method>', 'run one method: precopy or quick (default: both, side by side)')
    .option('--html <file>', 'also write a self-contained HTML report (charts inline, viewable offline)')
    .option('--qmp-log <file>', 'also write the pre-copy progress as QEMU query-migrate replies, one JSON line per 100 ms sample (what migbench fit reads)')
    .option('--mode <mode>', 'emulate (real threads, real bytes, wall clock) or simulate (the same loop on a virtual clock: any guest size, deterministic, no waiting)', 'emulate')
    .option('-q, --quiet', 'no progress or summary on stderr', false)
    .option('--force', 'let the quick-migration image replace a regular file already at quick.path (never a symlink, device or FIFO); without it an existing quick.path is refused', false)
    .action(async (scenario: string | undefined, opts: { set: string[]; json: boolean; out?: string; quiet: boolean; only?: string; html?: string; qmpLog?: string; mode?: string; force: boolean }) => {
      code = await runCommand(scenario, opts);
    });

  program
    .command('suite')
    .description('run every scenario of a suite N times after warm-up, keeping every run as a raw sample (the input of compare)')
    .argument('<suite>', 'suite JSON file (a list of scenarios, or a base scenario with a parameter matrix)')
    .option('--runs <n>', 'measured runs per benchmark (default: the suite\'s "runs", else 10)')
    .option('--warmup <n>', 'warm-up runs per benchmark, not kept (default: the suite\'s "warmup", else 1)')
    .addOption(new Option('--set <key.path=value>', 'override a key in every scenario of the suite (repeatable)').argParser(collect).default([]))
    .option('--only <method>', 'run one method: precopy or quick (default: the suite\'s "methods", else both)')
    .option('--mode <mode>', 'emulate (measured on this machine) or simulate (the virtual-clock model: deterministic, every metric exact; --runs defaults to 1 and --warmup to 0)', 'emulate')
    .option('--jobs <n>', 'simulate mode: threads to run benchmarks on (default: the number of CPUs; 1 runs them in this thread)')
    .option('--max-points <n>', 'the most benchmarks a matrix may expand to (default 10000)')
    .option('--out <file>', 'write the suite result (JSON) to a file')
    .option('--json', 'print the suite result on stdout', false)
    .addOption(new Option('--export <kind=file>', 'also write github-action-benchmark=FILE or bencher=FILE (repeatable)').argParser(collect).default([]))
    .option('-q, --quiet', 'no progress on stderr', false)
    .option('--force', 'let quick-migration images replace regular files already at quick.path (never a symlink, device or FIFO); a suite file cannot ask for this', false)
    .action(async (file: string, opts: SuiteCommandOptions) => {
      code = await suiteCommand(file, opts);
    });

  program
    .command('compare')
    .description('compare two suite results: medians with confidence intervals, Mann-Whitney U, regressions gate the exit code')
    .argument('<base>', 'base suite result (JSON)')
    .argument('<head>', 'head suite result (JSON)')
    .option('--alpha <p>', 'significance level', '0.05')
    .option('--threshold <pct>', 'a significant change must also be worse than this to be a regression', '5%')
    .addOption(new Option('--metric-threshold <metric=pct>', 'per-metric threshold, e.g. downtime=10% (repeatable)').argParser(collect).default([]))
    .option('--format <format>', 'text (a table on stderr), markdown or json (a document on stdout)', 'text')
    .option('--fail-on <what>', 'regression (exit 1 when one is found, 2 when nothing could be tested) or never (always 0)', 'regression')
    .option('--html <file>', 'also write a self-contained HTML report (charts inline, viewable offline)')
    .action((base: string, head: string, opts: CompareCommandOptions) => {
      code = compareCommand(base, head, opts);
    });

  program
    .command('ab')
    .description('A/B across commits: run a suite on two commits, interleaved (A B A B …) on this machine in git worktrees, then compare them like `compare` (exit 1 on a regression)')
    .argument('<suite>', 'suite JSON file (the same file for both sides)')
    .requiredOption('--base <ref>', 'base commit: a branch, tag or sha, e.g. origin/main')
    .option('--head <ref>', 'head commit (default: this checkout, as it is, uncommitted changes included)')
    .option('--runs <n>', 'measured passes per side; a pass runs every benchmark once', '10')
    .option('--warmup <n>', 'discarded warm-up passes per side, before the measured ones', '1')
    .addOption(new Option('--set <key.path=value>', 'override a scenario key in every scenario, on both sides (repeatable)').argParser(collect).default([]))
    .option('--out-dir <dir>', 'where base.json, head.json, comparison.md and comparison.json go (default: ./migbench-ab-<base sha>-<head sha>)')
    .option('--alpha <p>', 'significance level of the Mann–Whitney U test', '0.05')
    .option('--threshold <percent>', 'a significant change must be worse than this to be a regression', '5%')
    .addOption(new Option('--metric-threshold <metric=percent>', 'threshold for one metric, e.g. downtime=10% (repeatable)').argParser(collect).default([]))
    .option('--format <format>', 'the comparison: text (a table on stderr), markdown or json (a document on stdout)', 'text')
    .option('--fail-on <when>', 'regression: exit 1 when a metric regressed, 2 when nothing could be tested; never: always 0', 'regression')
    .option('--keep-worktrees', 'leave the worktrees and the raw pass results in place (for a post-mortem)', false)
    .action(async (suite: string, opts: AbCommandOptions) => {
      code = await abCommand(suite, opts);
    });

  program
    .command('sweep')
    .description('run every point of a parameter grid over a scenario (emulate mode: one point at a time; simulate mode: in parallel) and tabulate total time, downtime, bytes, outcome and guest slowdown')
    .argument('[scenario]', 'scenario JSON file (default: the built-in default scenario)')
    .addOption(new Option('--param <key.path=v1,v2,…>', 'a grid axis, e.g. precopy.downtimeLimitMs=30,100,300 (repeatable)').argParser(collect).default([]))
    .addOption(new Option('--set <key.path=value>', 'override a key of the base scenario (repeatable)').argParser(collect).default([]))
    .option('--runs <n>', 'runs per point (medians are reported; in simulate mode each run has a seed of its own)')
    .option('--mode <mode>', 'emulate (real migrations, one point at a time) or simulate (the virtual-clock model, points in parallel)', 'emulate')
    .option('--jobs <n>', 'simulate mode: threads to run points on (default: the number of CPUs; 1 runs them in this thread)')
    .option('--max-points <n>', 'the most grid points to run (default 10000)')
    .option('--shard <i/n|auto>', 'run only slice i of n of the grid (join the slices with `migbench merge`); auto: slice JOB_COMPLETION_INDEX + 1 of JOB_COMPLETIONS (a Kubernetes Indexed Job)')
    .option('--out <file>', 'write the sweep (JSON)')
    .option('--csv <file>', 'write one CSV row per point')
    .option('--json', 'print the sweep (JSON) on stdout (the table goes to stderr without it)', false)
    .option('--html <file>', 'also write a self-contained HTML report (charts inline, viewable offline)')
    .option('-q, --quiet', 'no progress on stderr', false)
    .action(async (scenario: string | undefined, opts: SweepCommandOptions) => {
      code = await sweepCommand(scenario, opts);
    });

  program
    .command('merge')
    .description('join the slices of a sharded sweep (`sweep --shard i/n`) into one sweep file')
    .argument('<slices...>', 'sweep JSON files')
    .option('--out <file>', 'write the joined sweep (JSON)')
    .option('--csv <file>', 'write one CSV row per point')
    .option('--json', 'print the joined sweep on stdout (the table goes to stderr without it)', false)
    .option('-q, --quiet', 'no table', false)
    .action((files: string[], opts: { out?: string; csv?: string; json: boolean; quiet: boolean }) => {
      code = mergeCommand(files, opts);
    });

  program
    .command('tune')
    .description('search convergence settings, print the Pareto frontier (total time against downtime) and recommend the setting that meets a downtime target with the best objective')
    .argument('[scenario]', 'scenario JSON file (default: the built-in default scenario)')
    .requiredOption('--max-downtime <duration>', 'the downtime target, e.g. 300ms')
    .option('--objective <objective>', 'total-time, bytes or guest-slowdown', 'total-time')
    .option('--search <keys>', 'keys to search with their default candidates: precopy.policy, precopy.downtimeLimitMs, precopy.autoConverge (default: the first two)')
    .addOption(new Option('--param <key.path=v1,v2,…>', 'a key to search with your own candidates (repeatable)').argParser(collect).default([]))
    .addOption(new Option('--set <key.path=value>', 'override a key of the base scenario (repeatable)').argParser(collect).default([]))
    .option('--runs <n>', 'runs per setting (medians are compared; in simulate mode each run has a seed of its own)')
    .option('--mode <mode>', 'emulate (real migrations, one setting at a time) or simulate (the virtual-clock model, settings in parallel: answers at once)', 'emulate')
    .option('--jobs <n>', 'simulate mode: threads to run settings on (default: the number of CPUs; 1 runs them in this thread)')
    .option('--max-points <n>', 'the most settings to try (default 10000)')
    .option('--apply <file>', 'write the scenario with the recommendation to a file')
    .option('--emit <system-and-file...>', 'write the recommendation\'s orchestrator settings in that system\'s own format: --emit kubevirt|nova|proxmox FILE (a MigrationPolicy manifest, a nova.conf [libvirt] section, a datacenter.cfg fragment); the scenario\'s orchestrator.kind must match')
    .option('--out <file>', 'write every setting\'s figures, the frontier and the recommendation (JSON)')
    .option('--json', 'print the result (JSON) on stdout (the table goes to stderr without it)', false)
    .option('--html <file>', 'also write a self-contained HTML report (charts inline, viewable offline)')
    .option('-q, --quiet', 'no progress on stderr', false)
    .action(async (scenario: string | undefined, opts: TuneCommandOptions) => {
      code = await tuneCommand(scenario, opts);
    });

  program
    .command('predict')
    .description('predict a scenario at once from the analytic model (the pre-copy closed form V_i = M·λ^i, with overlap and working-set corrections): rounds, bytes, total time, downtime, converges or not and why, for pre-copy and quick migration; no threads')
    .argument('[scenario]', 'scenario JSON file (the built-in default scenario when none is given)')
    .addOption(new Option('--set <key.path=value>', 'override a scenario key (repeatable), e.g. --set workload.dirtyRate=50000/s').argParser(collect).default([]))
    .option('--json', 'print the prediction (JSON) on stdout (the summary goes to stderr without it)', false)
    .action((scenario: string | undefined, opts: { set: string[]; json: boolean }) => {
      code = predictCommand(scenario, opts);
    });

  program
    .command('fit')
    .description('fit a scenario to a QEMU migration log (polled query-migrate replies as JSON lines or a JSON array), each figure with its evidence, and replay it in simulate mode beside the log')
    .argument('<log>', 'QMP log: query-migrate replies in order, optionally after query-migrate-parameters and -capabilities')
    .option('--out <file>', 'write the fitted scenario (JSON, resolved: a valid scenario file)')
    .option('--json', 'print the fit (scenario, parameters with evidence, replay beside the log) as JSON on stdout', false)
    .option('--html <file>', 'also write a self-contained HTML report: the fit with its evidence, the replay beside the log, remaining over time for both, the what-if grid')
    .option('--what-if', 'run the fitted guest through a grid of settings (--param) in simulate mode and name the cheapest that converge within the downtime target; with XBZRLE in the log, also without it', false)
    .addOption(new Option('--param <key.path=v1,v2,…>', 'with --what-if: a scenario key and the values to try (repeatable), e.g. link.bandwidth=1Gbit/s,10Gbit/s').argParser(collect).default([]))
    .addOption(new Option('--set <key.path=value>', 'with --what-if: override a key of the fitted scenario at every setting, the logged one too (repeatable), e.g. precopy.timeoutMs=20000').argParser(collect).default([]))
    .option('--max-downtime <duration>', 'with --what-if: the downtime target (default: the log\'s downtime limit)')
    .option('--objective <objective>', 'with --what-if: what "cheapest" means: total-time, bytes or guest-slowdown (default total-time)')
    .option('--jobs <n>', 'with --what-if: threads to run settings on (default: the number of CPUs; 1 runs them in this thread)')
    .option('--max-points <n>', 'with --what-if: the most settings to try (default 10000)')
    .action(async (log: string, opts: FitCommandOptions) => {
      code = await fitCommand(log, opts);
    });

  program
    .command('report')
    .description('render result files (runs, suite results, comparisons, sweeps, tune files) as one self-contained HTML page with charts, viewable offline; optionally a markdown summary')
    .argument('<files...>', 'result JSON files: from run --out, suite --out, compare --format json, sweep --out or tune --out')
    .option('--html <file>', 'write the HTML report here (default: ./report.html unless --markdown is given)')
    .option('--markdown <file>', 'write a markdown summary here')
    .action((files: string[], opts: { html?: string; markdown?: string }) => {
      code = reportCommand(files, opts);
    });

  program
    .command('receive')
    .description('be the destination of migrations sent over TCP (link.transport "tcp", link.target HOST:PORT): one at a time, verified by hashes; progress on stderr')
    .option('--listen <host:port>', 'address to listen on (PORT alone: 127.0.0.1; port 0 picks a free one, named on the first line)', DEFAULT_LISTEN)
    .option('--token-file <file>', 'a secret the sender must prove it knows (its link.tokenFile holds the same text)')
    .option('--once', 'exit after one migration: 0 when it was verified, 3 when it failed', false)
    .option('--tls-cert <file>', "TLS: this receiver's certificate (PEM); with --tls-key and --tls-ca, every sender must use TLS (link.tls)")
    .option('--tls-key <file>', 'TLS: the private key of --tls-cert (PEM)')
    .option('--tls-ca <file>', 'TLS: the CA (PEM) that must have signed each sender\'s certificate')
    .action(async (opts: ReceiveCommandOptions) => {
      code = await receiveCommand(opts);
    });

  const image = program.command('image').description('quick-migration images');
  image
    .command('inspect')
    .description("check a kept image end to end (magic, version, header, every checksum) and summarise it; exit 3 if it is corrupt, 2 if it is not there")
    .argument('<file>', 'image file (written with quick.keepImage: true)')
    .option('--json', 'print the summary (JSON) on stdout (the summary goes to stderr without it)', false)
    .action(async (file: string, opts: { json: boolean }) => {
      code = await imageInspectCommand(file, opts);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version are not errors
      return error.exitCode === 0 ? 0 : 2;
    }
    const c = colorsFor(process.stderr);
    if (isMigbenchError(error)) {
      process.stderr.write(`${c.red('error')}: ${error.message}\n`);
      return exitCodeFor(error.code);
    }
    process.stderr.write(`${c.red('internal error')}: ${(error as Error)?.stack ?? String(error)}\n`);
    return 3;
  }
}

export async function runCli(argv: readonly string[]): Promise<never> {
  // a second Ctrl-C / SIGTERM while a run is stopping quits at once (src/cli/interrupt.ts)
  // (a quick-migration image being written or read back is removed on the way out, as the normal path would)
  setQuitAtOnce((signalCode) => {
    removeUnfinishedImagesSync();
    process.exit(signalCode);
  });
  const stdout = watchStdout(process.stdout);
  let code = await main(argv);
  // every run ends its worker threads; one still running here is a migbench bug (process.exit would hide it)
  const live = liveWorkers();
  if (live.count > 0) {
    process.stderr.write(`warning: ${live.count} worker thread(s) still running at exit (${Object.entries(live.byKind).map(([k, n]) => `${k}: ${n}`).join(', ')}): a migbench bug, please report it\n`);
  }
  // A pipe takes 64 KiB at once; the rest of a large --json document is still queued: let it drain first.
  // Data on stdout that could not be written (EPIPE aside) is exit 3 (src/cli/stdout-errors.ts).
  await Promise.all([stdout.settled(), new Promise<void>((resolve) => (process.stderr.writableNeedDrain ? process.stderr.once('drain', resolve) : resolve()))]);
  if (stdout.error) process.stderr.write(`${colorsFor(process.stderr).red('error')}: ${stdoutErrorLine(stdout.error)}\n`);
  code = exitCodeAfterStdout(code, stdout.code);
  process.exit(code);
}
