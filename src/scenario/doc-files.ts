/**
 * The files made from the key table, as they are and as they should be: the README with its
 * "Scenario keys" table between the markers, and results/scenario.schema.json. Pure: the caller
 * reads the files (a test compares, scripts/scenario-docs.ts rewrites).
 */
import { scenarioKeysMarkdown } from './docs.ts';
import { scenarioJsonSchemaText } from './json-schema.ts';

export const README_TABLE_START = '<!-- scenario-keys:start (generated from src/scenario/keys.ts: npm run docs:scenario) -->';
export const README_TABLE_END = '<!-- scenario-keys:end -->';
export const SCHEMA_PATH = 'results/scenario.schema.json';

export interface DocFile {
  readonly path: string;
  readonly current: string | null;
  readonly wanted: string;
}

/** `text` with the part between the markers replaced by `table`; refuses a text without both markers. */
export function withReadmeTable(text: string, table: string): string {
  const start = text.indexOf(README_TABLE_START);
  const end = text.indexOf(README_TABLE_END);
  if (start < 0 || end < start) throw new Error(`README.md: the scenario keys table needs the markers ${README_TABLE_START} and ${README_TABLE_END}`);
  return `${text.slice(0, start + README_TABLE_START.length)}\n${table}${text.slice(end)}`;
}

/** Each generated file: its path, its current text (null when missing) and the text it should have. */
export function scenarioDocFiles(read: (path: string) => string): DocFile[] {
  const tryRead = (path: string): string | null => {
    try {
      return read(path);
    } catch {
      return null;
    }
  };
  const readme = read('README.md');
  return [
    { path: 'README.md', current: readme, wanted: withReadmeTable(readme, scenarioKeysMarkdown()) },
    { path: SCHEMA_PATH, current: tryRead(SCHEMA_PATH), wanted: scenarioJsonSchemaText() },
  ];
}
