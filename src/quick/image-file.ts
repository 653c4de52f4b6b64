/**
 * Where image files go and how they are opened. migbench runs as root in CI, and scenario and suite
 * files come from pull requests, so an image path is untrusted input:
 *
 * - an image is created with exclusive create and never through a symbolic link
 *   (O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW): a file, a device or a link already at the path is
 *   never written through and never removed;
 * - only `--force` on the command line (never a scenario or suite key) lets a run replace a regular
 *   file that is there, still never through a symbolic link and never a device, FIFO or directory;
 *   a file replaced that way was not created by the run, so the run leaves it in place;
 * - without `quick.path`, the image goes into a fresh private folder (mkdtemp, mode 0700, a random
 *   name) under `quick.dir` or the OS temp folder, removed with the image;
 * - a reader opens without blocking (O_NONBLOCK: opening a FIFO would wait for a writer forever) and
 *   refuses anything but a regular file, checked on the open file (fstat), not on the path.
 */
import { constants, lstatSync, rmdirSync, rmSync, type Stats } from 'node:fs';
import { mkdtemp, open, rm, rmdir, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { MigbenchError } from '../errors.ts';
import { describeKind } from '../file-kind.ts';
import type { Scenario } from '../options.ts';
import { stripControls } from './image-format.ts';
import { io, ioError } from './storage.ts';

const { O_WRONLY, O_RDONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants;

export interface ImageLocation {
  path: string;
  /** the private folder made for the image (removed with it), or null for `quick.path` */
  tempDir: string | null;
}

/** A file-name-safe form of the scenario's name. */
function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40) || 'image';
}

/**
 * What runs in this process have created and not yet removed or kept: images being written or read
 * back, and their private folders. A command that must quit at once (a second Ctrl-C or SIGTERM)
 * removes them on the way out (`removeUnfinishedImagesSync`), as the normal path would have.
 */
const unfinished = { files: new Set<string>(), dirs: new Set<string>() };

/** Remove every image and private folder a run created and has not finished with (synchronous: for an exit). */
export function removeUnfinishedImagesSync(): void {
  for (const path of unfinished.files) rmSync(path, { force: true });
  for (const dir of unfinished.dirs) {
    try {
      rmdirSync(dir);
    } catch {
      // not empty (not only ours) or gone: left as it is
    }
  }
  unfinished.files.clear();
  unfinished.dirs.clear();
}

/** The run keeps its image (`quick.keepImage`): it is no longer unfinished. */
export function keepImage(location: ImageLocation): void {
  unfinished.files.delete(location.path);
  if (location.tempDir !== null) unfinished.dirs.delete(location.tempDir);
}

/** The image's path: `quick.path` as given, else `<quick.dir or tmp>/migbench-XXXXXX/<name>.img` in a new folder. */
export async function imageLocation(scenario: Scenario): Promise<ImageLocation> {
  if (scenario.quick.path) return { path: scenario.quick.path, tempDir: null };
  const prefix = join(scenario.quick.dir ?? os.tmpdir(), 'migbench-');
  const tempDir = await io('mkdir', `${prefix}XXXXXX`, () => mkdtemp(prefix));
  unfinished.dirs.add(tempDir);
  return { path: join(tempDir, `${safeName(scenario.name)}.img`), tempDir };
}

/** Remove what a run created: the image (when `created`), then its private folder (only if empty). */
export async function removeImage(location: ImageLocation, created: boolean): Promise<void> {
  if (created) await removeCreatedImage(location.path);
  if (location.tempDir !== null) {
    await rmdir(location.tempDir).catch(() => undefined);
    unfinished.dirs.delete(location.tempDir);
  }
}

/** Remove an image file this process created (createImageFile said `created`). */
export async function removeCreatedImage(path: string): Promise<void> {
  await rm(path, { force: true }).catch(() => undefined);
  unfinished.files.delete(path);
}

/**
 * Open an image for writing. Exclusive create, never through a symbolic link; with `force` (the
 * command line's `--force`) a regular file already there is truncated and reused (`created: false`:
 * not this run's to remove). Anything else at the path is refused (E_IO, naming the step and path).
 */
export async function createImageFile(path: string, force: boolean): Promise<{ fh: FileHandle; created: boolean }> {
  try {
    const fh = await open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o666);
    unfinished.files.add(path);
    return { fh, created: true };
  } catch (error) {
    if (!(force && (error as NodeJS.ErrnoException).code === 'EEXIST')) throw ioError('open', path, error);
  }
  // --force: O_NOFOLLOW refuses a symbolic link (ELOOP); O_NONBLOCK makes a FIFO without a reader fail
  // (ENXIO) instead of waiting; what did open is checked on the open file before a byte changes.
  const fh = await io('open', path, () => open(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK));
  try {
    const st = await io('stat', path, () => fh.stat());
    if (!st.isFile()) throw new MigbenchError('E_IO', `open ${path}: ${describeKind(st)}: an image is only ever written to a regular file, --force or not`);
    await io('truncate', path, () => fh.truncate(0));
    return { fh, created: false };
  } catch (error) {
    await fh.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Open an image for reading without blocking, and refuse (E_USAGE, exit 2) anything but a regular
 * file: a FIFO, a device, a directory. The check is on the open file, so nothing can be swapped in
 * between.
 */
export async function openImageForReading(path: string): Promise<{ fh: FileHandle; st: Stats }> {
  const fh = await io('open', path, () => open(path, O_RDONLY | O_NONBLOCK));
  try {
    const st = await io('stat', path, () => fh.stat());
    if (!st.isFile()) throw new MigbenchError('E_USAGE', stripControls(`image ${path}: ${describeKind(st)}, not an image file (an image is a regular file)`));
    return { fh, st };
  } catch (error) {
    await fh.close().catch(() => undefined);
    throw error;
  }
}

export interface ImageWriter {
  /** names the runs in messages: "run", a benchmark's name */
  label: string;
  scenario: Scenario;
  /** how many runs write this scenario's image (a suite's warm-up and measured runs) */
  runs: number;
}

/**
 * Check `quick.path` before anything runs: a path that is already there is an error naming it (exit 2)
 * unless `force`; with `force`, only a regular file may be replaced. Images kept (`quick.keepImage`)
 * by more than one run at one path would replace each other: refused too, unless `force`. (The
 * exclusive create at open time still guards against a file that appears meanwhile.)
 */
export function checkImagePaths(writers: readonly ImageWriter[], force: boolean): void {
  const kept = new Map<string, number>();
  for (const { label, scenario, runs } of writers) {
    const path = scenario.quick.path;
    if (!path) continue;
    const where = writers.length > 1 ? `${label}: ` : '';
    let st: Stats | null = null;
    try {
      st = lstatSync(path);
    } catch {
      st = null; // not there (or not reachable: the open will say why)
    }
    if (st !== null && !force) {
      throw new MigbenchError('E_SCENARIO', `${where}quick.path: ${JSON.stringify(path)} is already there (${describeKind(st)}); migbench writes an image only to a new file: remove it, choose another path, or pass --force on the command line to replace a regular file`);
    }
    if (st !== null && !st.isFile()) {
      throw new MigbenchError('E_SCENARIO', `${where}quick.path: ${JSON.stringify(path)} is ${describeKind(st)}; an image is only ever written to a regular file, --force or not`);
    }
    if (scenario.quick.keepImage) kept.set(path, (kept.get(path) ?? 0) + runs);
  }
  for (const [path, runs] of kept) {
    if (runs > 1 && !force) {
      throw new MigbenchError('E_SCENARIO', `quick.path: ${JSON.stringify(path)} would be kept (quick.keepImage) by ${runs} runs, each replacing the one before; keep no image, or pass --force on the command line`);
    }
  }
}
