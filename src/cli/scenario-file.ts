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

/** True when `prefix` could still begin a JSON text: it parses, or JSON.parse fails only at its end. */
function jsonPrefixOk(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return true;
  } catch (error) {
    const message = (error as Error).message;
    if (message.startsWith('Unexpected end of JSON input')) return true;
    const at = / at position (\d+)/.exec(message);
    return at !== null && Number(at[1]) >= prefix.length;
  }
}

/**
 * Where and why JSON.parse refused `text`, in one line: `line 3, column 5: expected double-quoted
 * property name`. V8 gives an offset for most errors ("… in JSON at position 42"), none for an
 * unexpected token (its message quotes the text instead, over several lines): then the offset is the
 * shortest prefix that can no longer begin a JSON text, found by bisection with JSON.parse itself.
 */
export function jsonSyntaxError(text: string, error: unknown): string {
  const message = ((error as Error)?.message ?? String(error)).split('\n')[0]!;
  let offset: number;
  let why: string;
  const at = /^(.*?) in JSON at position (\d+)/.exec(message);
  if (at !== null) {
    offset = Number(at[2]);
    why = at[1]!;
  } else if (message.startsWith('Unexpected end of JSON input')) {
    offset = text.length;
    why = 'unexpected end of the file';
  } else {
    let lo = 0; // text.slice(0, lo) can begin a JSON text
    let hi = text.length; // text.slice(0, hi) cannot
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (jsonPrefixOk(text.slice(0, mid))) lo = mid;
      else hi = mid;
    }
    offset = hi - 1;
    why = `unexpected character ${JSON.stringify(text[offset] ?? '')}`;
  }
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - (before.lastIndexOf('\n') + 1) + 1;
  return `line ${line}, column ${column}: ${why.charAt(0).toLowerCase()}${why.slice(1)}`;
}

/** The file's JSON. */
export function readJsonFile(path: string, label: string, code: ErrorCode = 'E_USAGE', jsonCode: ErrorCode = code): unknown {
  const text = readTextFile(path, label, code);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new MigbenchError(jsonCode, `${label}: not valid JSON at ${jsonSyntaxError(text, error)}`);
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
