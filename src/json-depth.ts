/**
 * How deeply a parsed JSON value nests. `JSON.parse` reads any depth, but `JSON.stringify`,
 * `structuredClone` and recursive readers give up (a RangeError) after a few thousand levels; scenario
 * and result documents nest a handful of levels. Readers refuse a value nested deeper than
 * `MAX_JSON_DEPTH` with their own error code before anything recurses into it.
 *
 * Pure, iterative (no recursion, so it cannot overflow the stack itself).
 */

/** Far beyond any scenario or result document (they nest under 10 levels), far below where V8 gives up. */
export const MAX_JSON_DEPTH = 100;

/** True when `value` has arrays or objects nested more than `max` levels deep (a scalar is depth 0). */
export function nestedDeeperThan(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  const stack: { node: unknown; depth: number }[] = [{ node: value, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push({ node: child, depth: depth + 1 });
    }
  }
  return false;
}
