/**
 * Every file a command writes at a path the user named (`--out`, `--html`, `--markdown`, `--csv`,
 * `--apply`, `--export`) goes through here. The rules:
 *
 * - Only a regular file is replaced. A target that exists and is anything else (a directory, a device,
 *   a FIFO, a socket) is refused, and so is a symbolic link at the last component: migbench neither
 *   writes through a link nor replaces it (following it could write anywhere, replacing it would drop
 *   what the user put there). Refusals are E_USAGE (exit 2).
 * - `checkOutputs` runs before the work starts: the target's folder must exist and be writable, so a
 *   typo in a folder fails at once, not after a long run; two flags naming the same file are refused.
 * - `writeOutputs` writes all the files or none: each goes to a temporary file beside its target,
 *   created exclusively (O_EXCL, O_NOFOLLOW, an unpredictable name), written and fsynced; only when
 *   every one is complete are they renamed over their targets, in the order given (callers list the
 *   JSON first). Any failure removes every temporary file; a failed write is E_IO (exit 3).
 *
 * `targetProblem` is the decision as a pure function of what lstat saw; the rest gathers facts and
 * does the I/O.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, fsyncSync, lstatSync, openSync, readlinkSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { MigbenchError } from '../errors.ts';
import { KIND_WORDS, kindOf, type NodeKind } from '../file-kind.ts';

/** What the decision needs to know about one target. */
export interface TargetFacts {
  /** the path as the user gave it */
  path: string;
  /** what is at the path itself */
  target: NodeKind;
  /** where a symbolic link points (for the message), when `target` is 'symlink' */
  linkTo?: string;
  /** the folder the file goes into */
  folder: string;
  /** what is at the folder (links followed: a folder reached through a link is fine) */
  folderKind: NodeKind;
  /** why the folder cannot be written to (an errno code such as EACCES or EROFS), or null when it can */
  folderNotWritable: string | null;
}

/**
 * Why `flag` cannot write its file (one line, naming the flag, the path and the rule), or null when it
 * can. Pure.
 */
export function targetProblem(flag: string, f: TargetFacts): string | null {
  const at = `${flag} ${JSON.stringify(f.path)}`;
  if (f.path.endsWith('/')) return `${at}: names a folder; give a file name`;
  switch (f.target) {
    case 'absent':
    case 'file':
      break;
    case 'symlink':
      return `${at}: is a symbolic link${f.linkTo === undefined ? '' : ` (to ${JSON.stringify(f.linkTo)})`}; migbench neither writes through a link nor replaces it: give the real path${f.linkTo?.startsWith('/proc/self/fd/') || /^\/dev\/std(out|err)$/.test(f.path) ? ' (for stdout use --json)' : ''}`;
    case 'directory':
      return `${at}: is a directory; give a file name`;
    default:
      return `${at}: is ${KIND_WORDS[f.target]}, not a regular file; migbench replaces only regular files (remove it or give another path)`;
  }
  if (f.folderKind === 'absent') return `${at}: the folder ${JSON.stringify(f.folder)} does not exist`;
  if (f.folderKind !== 'directory') return `${at}: ${JSON.stringify(f.folder)} is not a folder (it is ${KIND_WORDS[f.folderKind]})`;
  if (f.folderNotWritable !== null) return `${at}: the folder ${JSON.stringify(f.folder)} is not writable (${f.folderNotWritable})`;
  return null;
}

function statOrNull(stat: (p: string) => Stats, path: string): Stats | null {
  try {
    return stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw error;
  }
}

/** Look at the target and its folder (lstat for the target: a link at the last component is not followed). */
export function targetFacts(path: string): TargetFacts {
  const folder = dirname(path);
  const t = statOrNull(lstatSync, path);
  const target = kindOf(t);
  let linkTo: string | undefined;
  if (target === 'symlink') {
    try {
      linkTo = readlinkSync(path);
    } catch {
      linkTo = undefined;
    }
  }
  const folderKind = kindOf(statOrNull(statSync, folder));
  let folderNotWritable: string | null = null;
  if (folderKind === 'directory') {
    try {
      accessSync(folder, constants.W_OK | constants.X_OK);
    } catch (error) {
      folderNotWritable = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    }
  }
  return { path, target, linkTo, folder, folderKind, folderNotWritable };
}

/** A file a command was asked to write: the flag that named it (for messages) and the path. */
export interface OutputTarget {
  flag: string;
  path: string;
}

/** An output with its content. */
export interface OutputFile extends OutputTarget {
  text: string;
}

function refuseIfBad(t: OutputTarget): void {
  let problem: string | null;
  try {
    problem = targetProblem(t.flag, targetFacts(t.path));
  } catch (error) {
    throw new MigbenchError('E_USAGE', `${t.flag} ${JSON.stringify(t.path)}: cannot check it (${(error as Error).message})`);
  }
  if (problem !== null) throw new MigbenchError('E_USAGE', problem);
}

/** The same file, whatever the spelling: the real folder plus the name. */
function identity(path: string): string {
  const folder = dirname(resolve(path));
  try {
    return join(realpathSync(folder), basename(path));
  } catch {
    return resolve(path);
  }
}

/**
 * Before any work: refuse (E_USAGE, exit 2) a target that is not a regular file or a missing/absent
 * one whose folder is missing or not writable, and two flags naming the same file. Targets that are
 * undefined (flag not given) are skipped.
 */
export function checkOutputs(targets: ReadonlyArray<{ flag: string; path: string | undefined }>): void {
  const seen = new Map<string, string>();
  for (const t of targets) {
    if (t.path === undefined || t.path === '') continue;
    refuseIfBad({ flag: t.flag, path: t.path });
    const id = identity(t.path);
    const other = seen.get(id);
    if (other !== undefined) throw new MigbenchError('E_USAGE', `${t.flag} ${JSON.stringify(t.path)}: the same file as ${other}; give each output a file of its own`);
    seen.set(id, t.flag);
  }
}

/** "no space left on device" from an errno error, else its message. */
function reason(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOSPC':
      return 'no space left on device';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EFBIG':
      return 'file too large';
    case 'ENOENT':
      return 'its folder does not exist';
    case 'EISDIR':
      return 'it is a directory';
    default:
      return e.message;
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone, or never made: nothing to clean up
  }
}

/** A name beside the target nobody can guess: `.NAME.<16 hex digits>.tmp`. */
export function temporaryNameFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
}

/** Create `tmp` exclusively (never an existing file, never through a link), write `text`, fsync, close. */
function writeTemporary(tmp: string, text: string): void {
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o666);
  try {
    writeFileSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Make the renames durable too (a folder's fsync; some file systems refuse it, which is harmless). */
function syncFolder(folder: string): void {
  try {
    const fd = openSync(folder, constants.O_RDONLY);
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // not every file system lets a folder be fsynced; the files themselves are
  }
}

/**
 * Write every file or none (see the module comment). Each target is checked again first (the run may
 * have taken long): a target that is no longer a regular file or absent is refused (E_USAGE); a write
 * that fails is E_IO naming its flag and path, and leaves no temporary file behind.
 */
export function writeOutputs(files: readonly OutputFile[]): void {
  checkOutputs(files);
  const temporaries: string[] = [];
  let renamed = 0;
  try {
    for (const f of files) {
      const tmp = temporaryNameFor(f.path);
      try {
        writeTemporary(tmp, f.text);
        temporaries.push(tmp);
      } catch (error) {
        // O_EXCL failing means it was not ours: do not remove it
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') removeQuietly(tmp);
        throw new MigbenchError('E_IO', `${f.flag} ${JSON.stringify(f.path)}: cannot write it (${reason(error)}); nothing was written`);
      }
    }
    // the last look before replacing anything: each target still a regular file, or still nothing
    for (const f of files) refuseIfBad(f);
    for (const [i, f] of files.entries()) {
      try {
        renameSync(temporaries[i], f.path);
      } catch (error) {
        const done = files.slice(0, i).map((d) => `${d.flag} ${JSON.stringify(d.path)}`);
        throw new MigbenchError('E_IO', `${f.flag} ${JSON.stringify(f.path)}: cannot write it (${reason(error)}); ${done.length > 0 ? `already written: ${done.join(', ')}` : 'nothing was written'}`);
      }
      renamed = i + 1;
    }
  } finally {
    for (const tmp of temporaries.slice(renamed)) removeQuietly(tmp);
  }
  for (const folder of new Set(files.map((f) => dirname(resolve(f.path))))) syncFolder(folder);
}

/** The outputs that were asked for (flags given), in the order given. */
export function requested(files: ReadonlyArray<{ flag: string; path: string | undefined; text: () => string }>): OutputFile[] {
  return files.filter((f) => f.path !== undefined && f.path !== '').map((f) => ({ flag: f.flag, path: f.path as string, text: f.text() }));
}
