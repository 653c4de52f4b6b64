/**
 * Reading the files a command is given: a missing or unreadable file, or bad JSON, is refused in one
 * line that names the file and why (exit 2). One helper for every command.
 *
 * Codes: a file that cannot be read is E_USAGE (a scenario's problems are all E_SCENARIO); a result
 * file (run, suite, sweep, comparison) that is not a well-formed document is E_RESULT.
 */
import { readFileSync } from 'node:fs';
import { MigbenchError, type ErrorCode } from '../errors.ts';

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

/** A result file's JSON: unreadable is E_USAGE, not JSON is E_RESULT (the document's checks come after). */
export function readResultFile(path: string): unknown {
  return readJsonFile(path, path, 'E_USAGE', 'E_RESULT');
}

/** A scenario file: its problems are scenario errors. */
export function readScenarioFile(path: string): unknown {
  return readJsonFile(path, `scenario ${JSON.stringify(path)}`, 'E_SCENARIO');
}
