/**
 * Reading the files a command is given: a missing or unreadable file, or bad JSON, is refused in one
 * line that names the file and why (exit 2). One helper for every command.
 *
 * Codes: a file that cannot be read is E_USAGE (a scenario's problems are all E_SCENARIO); a result
 * file (run, suite, sweep, comparison) that is not a well-formed document is E_RESULT.
 */
import { readFileSync } from 'node:fs';
import { MigbenchError, type ErrorCode } from '../errors.ts';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../json-depth.ts';

function why(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code === 'ENOENT' ? 'file not found' : e.code === 'EISDIR' ? 'it is a directory' : e.code === 'EACCES' ? 'permission denied' : e.message;
}

/** The file's text; `label` starts the message ("scenario \"x.json\"", or the path itself). */
export function readTextFile(path: string, label: string, code: ErrorCode = 'E_USAGE'): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new MigbenchError(code, `${label}: cannot read it (${why(error)})`);
  }
}

/** The file's JSON. */
export function readJsonFile(path: string, label: string, code: ErrorCode = 'E_USAGE', jsonCode: ErrorCode = code): unknown {
  const text = readTextFile(path, label, code);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new MigbenchError(jsonCode, `${label}: not valid JSON (${(error as Error).message.split('\n')[0]})`);
  }
}

/**
 * A result file's JSON: unreadable is E_USAGE; not JSON, or nested deeper than any result document
 * (the renderers and JSON.stringify would overflow the stack), is E_RESULT. The document's own checks
 * come after.
 */
export function readResultFile(path: string): unknown {
  const doc = readJsonFile(path, path, 'E_USAGE', 'E_RESULT');
  if (nestedDeeperThan(doc)) throw new MigbenchError('E_RESULT', `${path}: nested more than ${MAX_JSON_DEPTH} levels deep (not a migbench result)`);
  return doc;
}

/** A scenario file: its problems are scenario errors. */
export function readScenarioFile(path: string): unknown {
  return readJsonFile(path, `scenario ${JSON.stringify(path)}`, 'E_SCENARIO');
}
