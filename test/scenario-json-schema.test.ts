/**
 * results/scenario.schema.json (issue 13 item 5): made from the key table, committed as made, and
 * true to the resolver: real scenario files pass, bad ones fail, and what migbench accepts the
 * schema accepts (so an editor never flags a file that runs).
 */
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyOverrides, resolveScenario, scenarioToJson, SCENARIO_KEY_DECLS } from '../src/options.ts';
import { scenarioDocFiles, SCHEMA_PATH } from '../src/scenario/doc-files.ts';
import { scenarioJsonSchema, UNIT_PATTERNS } from '../src/scenario/json-schema.ts';
import { parseDurationMs, parsePerSecond, parseRateBytesPerSec, parseSizeBytes } from '../src/units.ts';
import { schemaValidator } from './helpers/schema-validator.ts';

const root = new URL('../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');
const committed = JSON.parse(read(SCHEMA_PATH)) as object;
const check = schemaValidator(committed);

const accepted = (input: unknown): boolean => {
  try {
    resolveScenario(input);
    return true;
  } catch {
    return false;
  }
};

/** Every scenario of the bench suites, and the README's example scenario. */
function realScenarios(): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const file of readdirSync(new URL('bench/suites/', root)).filter((f) => f.endsWith('.json'))) {
    const suite = JSON.parse(read(`bench/suites/${file}`)) as { scenarios: { name: string }[] };
    for (const s of suite.scenarios) out.push([`bench/suites/${file}: ${s.name}`, s]);
  }
  const readme = read('README.md');
  const section = readme.slice(readme.indexOf('## Scenario keys'));
  const example = /```json\n([\s\S]*?)```/.exec(section);
  out.push(['README example', JSON.parse(example![1]!)]);
  return out;
}

describe('results/scenario.schema.json', () => {
  it('is the schema the key table makes (else: npm run docs:scenario)', () => {
    const file = scenarioDocFiles(read).find((f) => f.path === SCHEMA_PATH)!;
    expect(file.current).toBe(file.wanted);
  });

  it('is a draft 2020-12 schema that ajv compiles in strict mode, closed in every object', () => {
    expect((committed as { $schema: string }).$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    const open: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${path}/${i}`));
      else if (node && typeof node === 'object') {
        const o = node as Record<string, unknown>;
        // a `then` narrows an object that is closed where it is declared
        if (o.type === 'object' && o.additionalProperties !== false && !path.includes('/then/')) open.push(path);
        for (const [k, v] of Object.entries(o)) walk(v, `${path}/${k}`);
      }
    };
    walk(committed, '');
    expect(open).toEqual([]);
  });

  it.each(realScenarios())('accepts %s (which migbench runs)', (_what, scenario) => {
    expect(accepted(scenario)).toBe(true);
    expect(check(scenario)).toEqual([]);
    // with the "$schema" key an editor reads, for migbench and for the schema
    const named = { $schema: '../results/scenario.schema.json', ...(scenario as object) };
    expect(accepted(named)).toBe(true);
    expect(check(named)).toEqual([]);
  });

  it.each<[string, unknown]>([
    ['the empty scenario', {}],
    ['the default scenario, resolved', undefined],
    ['unlimited rates, text fill, xen legacy, auto-converge', { link: { bandwidth: 'unlimited' }, guest: { fill: 'text' }, precopy: { policy: 'xen', policyParams: { xenVariant: 'legacy' }, autoConverge: true } }],
    ['a fleet, XBZRLE, zstd, channels, fill weights', { fleet: { count: 8, concurrency: 2 }, guest: { memory: '64MiB', fill: { zero: 0.3, random: 0.7 } }, precopy: { xbzrle: { enabled: true, cacheSize: '8MiB' }, compression: 'zstd', compressionLevel: 19, channels: 4 } }],
    ['dirty-limit, quick paths', { precopy: { dirtyLimit: '1MB/s', maxRounds: 30, onTimeout: 'force' }, quick: { dir: '/tmp', keepImage: true, format: 'mapped' } }],
  ])('accepts a resolved scenario written as JSON (itself a scenario file): %s', (_what, input) => {
    const json = scenarioToJson(resolveScenario(input));
    expect(check(json)).toEqual([]);
    expect(check(input ?? {})).toEqual([]);
  });

  it('accepts the scenarios of the result fixtures (resolved scenarios migbench wrote)', () => {
    for (const name of ['run.json', 'run-full.json', 'run-rounds.json']) {
      const doc = JSON.parse(read(`test/fixtures/${name}`)) as { scenario: unknown };
      expect(accepted(doc.scenario), name).toBe(true);
      expect(check(doc.scenario), name).toEqual([]);
    }
  });

  it.each<[string, unknown, RegExp]>([
    ['an unknown top-level key', { nmae: 'x' }, /must NOT have additional properties.*"nmae"/],
    ['an unknown key in a block', { guest: { memroy: '1GiB' } }, /^\/guest must NOT have additional properties/],
    ['an unknown key two blocks down', { precopy: { xbzrle: { on: true } } }, /^\/precopy\/xbzrle must NOT have additional properties/],
    ['an unknown pattern', { workload: { pattern: 'random' } }, /^\/workload\/pattern must be equal to one of the allowed values/],
    ['an unknown policy', { precopy: { policy: 'kvm' } }, /^\/precopy\/policy must be equal to one of the allowed values/],
    ['an unknown compression', { precopy: { compression: 'lz4' } }, /^\/precopy\/compression must be equal/],
    ["another policy's parameter", { precopy: { policy: 'qemu', policyParams: { xenVariant: 'legacy' } } }, /^\/precopy\/policyParams must be equal to one of the allowed values.*availSwitchoverBandwidth/],
    ["a parameter of xen without the policy (qemu's)", { precopy: { policyParams: { xenMaxIterations: 3 } } }, /^\/precopy\/policyParams must be equal/],
    ['a size in bits', { guest: { memory: '64Mb' } }, /^\/guest\/memory must match pattern/],
    ['a rate without /s', { link: { bandwidth: '10Gbit' } }, /^\/link\/bandwidth must match pattern/],
    ['too many vCPUs', { guest: { vcpus: 65 } }, /^\/guest\/vcpus must be <= 64/],
    ['a boolean as text', { quick: { keepImage: 'yes' } }, /^\/quick\/keepImage must be boolean/],
    ['a section that is not an object', { guest: 5 }, /^\/guest must be object/],
    ['a $schema that is not a string', { $schema: 5 }, /^\/\$schema must be string/],
  ])('refuses %s, as migbench does', (_what, input, complaint) => {
    expect(accepted(input)).toBe(false);
    const complaints = check(input);
    expect(complaints.some((c) => complaint.test(c)), complaints.join('\n')).toBe(true);
  });
});

describe('the schema is no stricter than migbench', () => {
  const keys = SCENARIO_KEY_DECLS.filter((d) => d.kind !== 'annotation').map((d) => d.key);
  const values = ['64MiB', '1GiB', '1GB', '4KB', '8KiB', '2MiB', '512', '1Gbit/s', '100Mbps', '128MiB/s', '20000/s', '20k/s', '300ms', '2s', '1.5min', 'unlimited', 'UNLIMITED',
    '0', '1', '2', '5', '16', '30', '99', '4096', '0.5', '1.5', 'null', 'true', 'false', '{}', '{"zero":1}', '{"enabled":true}', '{"count":3,"concurrency":2}', '{"initial":30}',
    '"xen"', '"zstd"', '"legacy"', '"zipf"', '"mapped"', '"force"', '"text"', '"/tmp/x"', '{"xenVariant":"legacy"}', '{"availSwitchoverBandwidth":"1Gbit/s"}'];

  it('every scenario migbench accepts (a key or three set to real values), the schema accepts', () => {
    fc.assert(
      fc.property(fc.constantFrom<unknown>({}, { precopy: { policy: 'xen' } }, { fleet: { count: 4 } }), fc.array(fc.tuple(fc.constantFrom(...keys), fc.constantFrom(...values)), { maxLength: 3 }), (base, sets) => {
        let input: unknown;
        try {
          input = applyOverrides(base, sets.map(([k, v]) => `${k}=${v}`));
        } catch {
          return; // a path through a value that is not an object
        }
        if (!accepted(input)) return;
        expect(check(input), JSON.stringify(input)).toEqual([]);
      }),
      { numRuns: 3000, seed: 13 },
    );
  });

  const unitCase = (units: readonly string[]) =>
    fc.tuple(fc.constantFrom('', ' '), fc.constantFrom('0', '1', '7', '64', '1.5', '.5', '1024', '3.25'), fc.constantFrom('', ' '), fc.constantFrom(...units), fc.constantFrom('', ' '), fc.boolean())
      .map(([a, n, b, u, c, upper]) => `${a}${n}${b}${upper ? u.toUpperCase() : u}${c}`);

  it.each<[keyof typeof UNIT_PATTERNS, (s: string) => number | null, readonly string[]]>([
    ['size', parseSizeBytes, ['', 'B', 'b', 'K', 'k', 'KiB', 'kib', 'KB', 'kB', 'Kb', 'MiB', 'M', 'GiB', 'GB', 'T', 'PiB', 'Mbit', 'X', 'MiB/s']],
    ['rate', parseRateBytesPerSec, ['', 'B/s', 'b/s', 'bit/s', 'kbit/s', 'Mbit/s', 'Gbps', 'MB/s', 'MiB/s', 'Mib/s', 'Mibit/s', 'KiB/s', 'GiBps', 'Gbit', 'GB', 'G/s', '/s', 'Tbit/s', 'Pbit/s']],
    ['perSecond', parsePerSecond, ['', '/s', 'k/s', 'k', 'M/s', 'G', 'm/s', 'T/s', 'x', '/min']],
    ['duration', parseDurationMs, ['', 'ms', 's', 'us', 'µs', 'μs', 'm', 'min', 'h', 'd', 'sec', 'mins']],
  ])('the %s pattern matches a string exactly when units.ts reads it (up to zero, whole bytes and 2^53)', (kind, parse, units) => {
    const pattern = new RegExp(UNIT_PATTERNS[kind], 'u');
    fc.assert(
      fc.property(unitCase(units), (text) => {
        const read = parse(text);
        if (read !== null) expect(pattern.test(text), text).toBe(true);
        // the other way: where the pattern matches, migbench reads it, but for a zero rate and a size that
        // is not whole bytes or is past 2^53 bytes (8 PiB)
        else if (pattern.test(text)) expect(kind === 'rate' ? /^\s*0\s*\D/.test(text) : kind === 'size' && /\.|p/i.test(text), text).toBe(true);
      }),
      { numRuns: 2000, seed: 5 },
    );
    expect(pattern.test(kind === 'rate' ? 'unlimited' : '1')).toBe(true);
  });

  it('the schema in the file is the one the code makes (no drift between the two used above)', () => {
    expect(committed).toEqual(JSON.parse(JSON.stringify(scenarioJsonSchema())));
  });
});
