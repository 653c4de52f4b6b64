/**
 * SLOW (about 43 s at a load average of 18 on this 2-core machine; mostly `npm pack`, `npm install` and
 * `tsc`): the package as a user gets it. `npm pack` (of dist/, built by the globalSetup), then `npm
 * install <tarball>` into a scratch project outside this checkout (dependencies from the npm cache that
 * `npm ci` filled; only the registry's metadata may be fetched), then, in that project: import it from
 * plain Node (ESM), run a real emulate-mode migration (worker threads started from the compiled
 * package, with neither tsx nor esbuild installed) and a shipped suite in simulate mode on a piscina
 * pool, and type-check a TypeScript consumer against the installed declarations.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

let scratch = '';
let app = '';
let packed: string[] = [];
let manifest: { version: string; exports: Record<string, Record<string, string>>; types: string; bin: Record<string, string>; dependencies: Record<string, string> };

function run(command: string, args: string[], options: SpawnSyncOptions = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 2 ** 20, ...options, env: { ...process.env, NO_COLOR: '1', ...options.env } });
  const out = { code: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
  if (r.error) throw new Error(`${command} ${args.join(' ')}: ${r.error.message}`);
  return out;
}

/** run and expect exit 0, showing the output when it is not */
function ok(command: string, args: string[], options: SpawnSyncOptions = {}) {
  const r = run(command, args, options);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'migbench-package-test-')); // outside this checkout: no node_modules above it
  // --ignore-scripts: dist/ is already built by the globalSetup (prepack would rebuild it from nothing)
  const pack = JSON.parse(ok('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], { cwd: ROOT }).stdout) as { filename: string; files: { path: string }[] }[];
  packed = pack[0]!.files.map((f) => f.path);
  app = join(scratch, 'app');
  ok('mkdir', [app]);
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' })}\n`);
  ok('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(scratch, pack[0]!.filename)], { cwd: app });
  manifest = JSON.parse(readFileSync(join(app, 'node_modules', 'migbench', 'package.json'), 'utf8'));
}, 180_000); // a hang guard: npm pack and npm install (about 25 s on a loaded machine)

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the packed package, installed into a scratch project', () => {
  it('ships the compiled code, its declarations, the worker entries, the bin and the suites, and no TypeScript sources', () => {
    for (const file of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/cli/main.js', 'dist/workers/vcpu.js', 'dist/workers/destination.js',
      'dist/workers/channel.js', 'dist/workers/sim.js', 'dist/workers/boot.mjs', 'bin/migbench.js', 'bench/suites/smoke.json',
      'bench/suites/standard.json', 'results/README.md', 'README.md', 'package.json']) {
      expect(packed, file).toContain(file);
    }
    expect(packed.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(packed.filter((f) => f.includes('tsbuildinfo'))).toEqual([]);
    // everything package.json points at is in the tarball
    const pointers = [manifest.types, ...Object.values(manifest.bin), ...Object.values(manifest.exports).flatMap((e) => Object.values(e))];
    for (const p of pointers) expect(packed, p).toContain(p.replace(/^\.\//, ''));
    // the development-only packages are not dependencies of the package, and are not installed with it
    for (const dev of ['tsx', 'esbuild', 'typescript', 'vitest']) {
      expect(manifest.dependencies[dev], dev).toBeUndefined();
      expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    }
  });

  it('says so, exit 3, when the bin runs in a checkout that is not built (no dist/)', () => {
    ok('mkdir', [join(scratch, 'unbuilt'), join(scratch, 'unbuilt', 'bin')]);
    writeFileSync(join(scratch, 'unbuilt', 'bin', 'migbench.js'), readFileSync(join(app, 'node_modules', 'migbench', 'bin', 'migbench.js')));
    const r = run(process.execPath, [join(scratch, 'unbuilt', 'bin', 'migbench.js'), '--version']);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('migbench: this checkout is not built (no dist/): run `npm run build` (npm ci runs it)\n');
  });

  it('imports from plain Node (ESM): `import("migbench")` gives runScenario, a function', () => {
    const r = ok(process.execPath, ['-e', "import('migbench').then(m => console.log(typeof m.runScenario))"], { cwd: app });
    expect(r.stdout.trim()).toBe('function');
  });

  it('finds its own files from the compiled code (package.json, bin/, for `ab` and the version)', async () => {
    const built = await import(pathToFileURL(join(app, 'node_modules', 'migbench', 'dist', 'src', 'package-root.js')).href) as { BUILT: boolean; PACKAGE_ROOT: URL };
    expect(built.BUILT).toBe(true);
    expect(fileURLToPath(built.PACKAGE_ROOT)).toBe(`${join(app, 'node_modules', 'migbench')}/`);
    expect(existsSync(new URL('bin/migbench.js', built.PACKAGE_ROOT))).toBe(true);
  });

  it('runs an emulate-mode migration of a 4 MiB guest: worker threads start from the compiled package', () => {
    expect(existsSync(join(app, 'node_modules', 'esbuild'))).toBe(false); // so no worker can have been bundled from sources
    const r = ok(join(app, 'node_modules', '.bin', 'migbench'), ['run', '--set', 'guest.memory=4MiB', '--only', 'precopy', '--json'], { cwd: app });
    const doc = JSON.parse(r.stdout);
    expect(doc.tool).toEqual({ name: 'migbench', version: manifest.version });
    expect(doc.mode).toBe('emulate');
    expect(doc.precopy.verified).toBe(true);
    expect(doc.precopy.stats.ram.total).toBe(4 * 2 ** 20);
  });

  it('runs a shipped suite in simulate mode on a pool of 2 threads (piscina, from the compiled package)', () => {
    const out = join(scratch, 'sim.json');
    ok(join(app, 'node_modules', '.bin', 'migbench'), ['suite', 'node_modules/migbench/bench/suites/smoke.json', '--mode', 'simulate', '--jobs', '2', '--runs', '1', '--warmup', '0', '--out', out, '--quiet'], { cwd: app });
    const doc = JSON.parse(readFileSync(out, 'utf8'));
    expect(doc.suite).toBe('smoke');
    expect(doc.benchmarks.map((b: { name: string }) => b.name)).toEqual(['idle-16m', 'hotset-16m']);
  });

  it('type-checks a TypeScript consumer against the installed declarations (real types, not any)', () => {
    writeFileSync(join(app, 'consumer.ts'), [
      "import { runScenario, resolveScenario, parseSizeBytes, MigbenchError, type ResultDocument, type Scenario } from 'migbench';",
      '',
      "const scenario: Scenario = resolveScenario({ guest: { memory: '4MiB' } });",
      "export const memoryBytes: number | null = parseSizeBytes('4MiB');",
      'export async function outcome(): Promise<string | null> {',
      "  const doc: ResultDocument = await runScenario(scenario, { methods: ['precopy'] });",
      '  return doc.precopy?.outcome ?? null;',
      '}',
      'export const isMigbenchError = (e: unknown): boolean => e instanceof MigbenchError;',
      '// @ts-expect-error runScenario takes a Scenario, not a string',
      "void runScenario('not a scenario');",
      '// @ts-expect-error parseSizeBytes may give null, so its result is not a number',
      "export const notANumber: number = parseSizeBytes('1GiB');",
      '',
    ].join('\n'));
    writeFileSync(join(app, 'tsconfig.json'), `${JSON.stringify({
      compilerOptions: {
        target: 'ES2022', lib: ['ES2022'], module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true,
        // as most projects do (`tsc --init`); a declaration that does not resolve would then give `any`
        // silently, which the @ts-expect-error lines above catch (they fail as unused)
        skipLibCheck: true,
        types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      files: ['consumer.ts'],
    })}\n`);
    const r = run(process.execPath, [TSC, '-p', '.'], { cwd: app });
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.code).toBe(0);
  });
});
