/**
 * Where this package's own files are. Its code runs either from the sources (`src/*.ts`: in a checkout,
 * under vitest or tsx) or compiled (`dist/src/*.js`: the built package, `npm run build`), one directory
 * deeper. Files found relative to the package's root (package.json, bin/) and the worker entries are
 * located from here, so they resolve the same way in both.
 */

/** true when this code is the compiled package (dist/src/*.js), false when it runs from its TypeScript sources */
export const BUILT: boolean = import.meta.url.endsWith('.js');

/** the package's root directory (holding package.json), as a file: URL ending in '/' */
export const PACKAGE_ROOT: URL = new URL(BUILT ? '../../' : '../', import.meta.url);
