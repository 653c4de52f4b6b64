/**
 * The command line: parses arguments (commander), runs a command, maps errors to exit codes
 * (0 done, 1 a compare gate found a regression, 2 usage or scenario error, 3 a crash or a failed
 * verification, 130 interrupted). The only place that calls process.exit.
 */
import { Command, CommanderError, Option } from 'commander';
import { exitCodeFor, isMigbenchError } from '../errors.ts';
import { VERSION } from '../version.ts';
import { colorsFor } from '../report/style.ts';
import { imageInspectCommand } from './image.ts';
import { runCommand } from './run.ts';

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
    .option('-q, --quiet', 'no progress or summary on stderr', false)
    .action(async (scenario: string | undefined, opts: { set: string[]; json: boolean; out?: string; quiet: boolean; only?: string }) => {
      code = await runCommand(scenario, opts);
    });

  const image = program.command('image').description('quick-migration images');
  image
    .command('inspect')
    .description("check a kept image end to end (magic, version, header, every checksum) and summarise it; exit 3 if it is corrupt")
    .argument('<file>', 'image file (written with quick.keepImage: true)')
    .option('--json', 'print the summary as JSON', false)
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
  const code = await main(argv);
  process.exit(code);
}
