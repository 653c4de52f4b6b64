/** Reading a scenario file: a missing file or bad JSON is a scenario error (exit 2), said in one line. */
import { readFileSync } from 'node:fs';
import { MigbenchError } from '../errors.ts';

export function readScenarioFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new MigbenchError('E_SCENARIO', `scenario ${JSON.stringify(path)}: ${why}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new MigbenchError('E_SCENARIO', `scenario ${JSON.stringify(path)}: not valid JSON (${(error as Error).message})`);
  }
}
