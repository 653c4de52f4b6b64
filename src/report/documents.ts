/** Which kind of result document a parsed JSON value is, and rendering one as a corrupt-file error when it trips a renderer. */
import { MigbenchError } from '../errors.ts';

export type DocumentKind = 'run' | 'suite' | 'comparison' | 'sweep';

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a parsed JSON document is, or null when migbench does not know it. */
export function detectKind(doc: unknown): DocumentKind | null {
  if (!isObject(doc)) return null;
  if (doc.kind === 'sweep' && Array.isArray(doc.points) && Array.isArray(doc.axes)) return 'sweep';
  if (doc.kind === 'suite' && Array.isArray(doc.benchmarks)) return 'suite';
  if (Array.isArray(doc.rows) && isObject(doc.base) && isObject(doc.head) && isObject(doc.counts)) return 'comparison';
  if ('schemaVersion' in doc && ('precopy' in doc || 'quick' in doc) && isObject(doc.scenario)) return 'run';
  return null;
}

/**
 * Run `render` for a document of a known kind: a renderer tripping over a malformed document (a
 * TypeError on a missing key, a RangeError on a value out of range) is a corrupt result file (E_RESULT
 * naming it), not a crash.
 */
export function renderingOf(kind: DocumentKind, name: string, render: () => void): void {
  try {
    render();
  } catch (error) {
    if (error instanceof MigbenchError) throw error;
    const why = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw new MigbenchError('E_RESULT', `${name}: looks like a ${kind} document but is incomplete or malformed (${why})`, { cause: error });
  }
}
