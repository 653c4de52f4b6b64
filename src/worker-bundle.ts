/**
 * The worker threads' code, as JavaScript a worker can start from.
 *
 * Node 20 cannot start a worker from a .ts file (DESIGN §8). The built package (`npm run build`, which
 * `npm ci` and `npm pack` run) has the worker entries compiled beside its own code: a worker starts
 * from `dist/workers/<name>.js`, with neither esbuild nor tsx at run time.
 *
 * Running from the sources (vitest, tsx), the first worker of a process bundles every worker entry with
 * esbuild (tsx's own compiler) into one ES module each, in memory, from the sources on disk: what runs
 * in the workers is always the code the main thread runs, with no build step to forget. (Registering
 * tsx's loader inside every worker works too, but each registration starts Node 20's off-thread
 * module-hooks machinery and transforms the worker's TypeScript again: ~100 ms of CPU per worker, and
 * memory that never comes back — measured: 0.03–0.04 MiB of resident memory per worker started, where a
 * plain JavaScript worker leaves none; a soak of 200 runs grew by 10 %.) Packages stay outside the
 * bundle, imported by absolute file URL (so their own files, such as zstd's WebAssembly, are found
 * beside them); workers start from `data:` URLs, so nothing is written to disk.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MigbenchError } from './errors.ts';
import { BUILT } from './package-root.ts';

export type BundledWorker = 'vcpu' | 'destination' | 'channel';
const ENTRIES: readonly BundledWorker[] = ['vcpu', 'destination', 'channel'];

let bundles: Promise<ReadonlyMap<BundledWorker, URL>> | null = null;

/**
 * The URL a worker starts from: its compiled entry in the built package, else the `data:` URL of its
 * bundle (built on the first call; later calls share it).
 */
export function workerBundle(name: BundledWorker): Promise<URL> {
  if (BUILT) return Promise.resolve(new URL(`../workers/${name}.js`, import.meta.url));
  bundles ??= build().catch((error: unknown) => {
    bundles = null; // a later start may try again (the sources may have been mid-edit)
    throw error;
  });
  return bundles.then((map) => map.get(name)!);
}

async function build(): Promise<ReadonlyMap<BundledWorker, URL>> {
  const esbuild = await import('esbuild');
  const workersDir = fileURLToPath(new URL('../workers/', import.meta.url));
  let result: Awaited<ReturnType<typeof esbuild.build>> & { outputFiles: { path: string; text: string }[] };
  try {
    result = await esbuild.build({
      entryPoints: Object.fromEntries(ENTRIES.map((name) => [name, `${workersDir}${name}.ts`])),
      outdir: workersDir, // names the outputs; nothing is written
      write: false,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'silent',
      plugins: [{
        name: 'packages-by-absolute-url',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, async (args) => {
            if (args.path.startsWith('node:') || args.pluginData === 'resolving') return undefined;
            const resolved = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'resolving' });
            if (resolved.errors.length > 0 || resolved.external) return { errors: resolved.errors, external: resolved.external, path: resolved.path };
            return { path: pathToFileURL(resolved.path).href, external: true };
          });
        },
      }],
    });
  } catch (error) {
    throw new MigbenchError('E_WORKER', `could not compile the worker threads' code: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  } finally {
    await esbuild.stop(); // its service process is not needed again in this process
  }
  const map = new Map<BundledWorker, URL>();
  for (const name of ENTRIES) {
    const file = result.outputFiles.find((f) => f.path === `${workersDir}${name}.js`);
    if (!file) throw new MigbenchError('E_WORKER', `could not compile the worker threads' code: no output for ${name}`);
    map.set(name, new URL(`data:text/javascript;base64,${Buffer.from(file.text).toString('base64')}`));
  }
  return map;
}
