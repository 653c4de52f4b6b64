/**
 * The import graph of `src/`, read with the TypeScript parser (not by pattern, so comments and strings
 * do not count): for every file, the `src/` files it imports (`import … from`, `export … from`, side-effect
 * imports, `import('…')` calls and `import('…').Type` references, type-only ones included), the packages it
 * imports, and the places where it calls `process.exit`. Paths are relative to `src/`, with `/`.
 * For test/layout.test.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

export interface SourceFacts {
  /** `src/` files this file imports (relative to `src/`) */
  imports: string[];
  /** packages and `node:` modules this file imports (bare specifiers) */
  packages: string[];
  /** 1-based lines where `process.exit` is referenced */
  processExitLines: number[];
}

export type ImportGraph = Map<string, SourceFacts>;

function listTsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTsFiles(path));
    else if (entry.isFile() && entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

function resolveRelative(fromFile: string, specifier: string): string | null {
  const base = resolve(dirname(fromFile), specifier);
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (candidate.endsWith('.ts') && existsSync(candidate)) return candidate;
  }
  return null;
}

/** Read every `.ts` file under `srcDir`. A relative import that resolves to no file throws (a broken import). */
export function readImportGraph(srcDir: string): ImportGraph {
  const root = resolve(srcDir);
  const rel = (path: string): string => relative(root, path).split(sep).join('/');
  const graph: ImportGraph = new Map();
  for (const file of listTsFiles(root).sort()) {
    const text = readFileSync(file, 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const facts: SourceFacts = { imports: [], packages: [], processExitLines: [] };
    const addSpecifier = (specifier: string): void => {
      if (specifier.startsWith('.')) {
        const target = resolveRelative(file, specifier);
        if (target === null) throw new Error(`${rel(file)}: cannot resolve import '${specifier}'`);
        const name = rel(target);
        if (!name.startsWith('../') && !facts.imports.includes(name)) facts.imports.push(name);
      } else if (!facts.packages.includes(specifier)) {
        facts.packages.push(specifier);
      }
    };
    const visit = (node: ts.Node): void => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        addSpecifier(node.moduleSpecifier.text);
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
        addSpecifier(node.argument.literal.text);
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments.length > 0 && ts.isStringLiteral(node.arguments[0])) {
        addSpecifier(node.arguments[0].text);
      } else if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'process' && node.name.text === 'exit') {
        facts.processExitLines.push(source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    graph.set(rel(file), facts);
  }
  return graph;
}

/** The folder a file belongs to: its first path segment (`sim/predict/x.ts` → `sim`), or the file itself at the top. */
export function folderOf(file: string): string {
  const slash = file.indexOf('/');
  return slash < 0 ? file : file.slice(0, slash);
}

/**
 * The import cycles between files: every strongly connected component of more than one file (or a file
 * that imports itself), each as its sorted file names; the list sorted. Tarjan's algorithm.
 */
export function importCycles(graph: ImportGraph): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  const strongConnect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.imports ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        strongConnect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)!.imports.includes(v)) components.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) strongConnect(v);
  return components.sort((a, b) => a.join().localeCompare(b.join()));
}
