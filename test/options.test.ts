import { describe, expect, it } from 'vitest';
import { MigbenchError } from '../src/errors.ts';
import { applyOverrides, overrideWarnings, resolveScenario, scenarioToJson, scenarioWarnings, SCENARIO_KEYS, suggestKey } from '../src/options.ts';

function messageOf(input: unknown): string {
  try {
    resolveScenario(input);
  } catch (error) {
    expect(error).toBeInstanceOf(MigbenchError);
    expect((error as MigbenchError).code).toBe('E_SCENARIO');
    return (error as Error).message;
  }
  throw new Error('expected the scenario to be refused');
}

describe('resolveScenario defaults', () => {
  it('resolves the empty scenario to the documented defaults', () => {
    const s = resolveScenario({});
    expect(s.guest).toEqual({ memory: 2 ** 30, pageSize: 4096, vcpus: 2, fill: { zero: 0, random: 1, text: 0 }, deviceState: 262144 });
    expect(s.workload).toEqual({ pattern: 'hotset', dirtyRate: 20000, workingSet: 128 * 2 ** 20, workingSetZero: null, hotFraction: 0.9, zipfExponent: 0.99, writeBytes: 8, readRate: 0 });
    expect(s.postcopy).toEqual({ enabled: false, startAfterRounds: 1, maxBandwidth: Infinity, preempt: true, recovery: false });
    expect(s.faults).toEqual({ linkDownAtMs: null, linkDownForMs: 0 });
    expect(s.link).toEqual({ bandwidth: 125_000_000, latencyMs: 0, transport: 'memory', target: null, tokenFile: null, tls: null });
    expect(s.precopy).toEqual({
      downtimeLimitMs: 300, maxBandwidth: 125_000_000, policy: 'qemu', policyParams: { availSwitchoverBandwidth: null }, autoConverge: null, dirtyLimit: null, xbzrle: { enabled: false, cacheSize: 64 * 2 ** 20 }, compression: 'none', compressionLevel: 1, channels: 1,
      maxRounds: null, timeoutMs: 120000, onTimeout: 'cancel',
    });
    expect(s.quick).toEqual({ storageBandwidth: 200 * 2 ** 20, handoverMs: 0, format: 'stream', dir: null, path: null, keepImage: false, restore: 'eager' });
    expect(Object.isFrozen(s.guest)).toBe(true);
  });

  it('parses units and normalises fill weights', () => {
    const s = resolveScenario({
      guest: { memory: '64MiB', pageSize: '8KiB', fill: { zero: 3, random: 1 } },
      workload: { dirtyRate: '50k/s', workingSet: '8MiB' },
      link: { bandwidth: 'unlimited', latencyMs: '2ms' },
      precopy: { maxBandwidth: '128MiB/s', downtimeLimitMs: '1s', maxRounds: 5 },
    });
    expect(s.guest.memory).toBe(64 * 2 ** 20);
    expect(s.guest.pageSize).toBe(8192);
    expect(s.guest.fill).toEqual({ zero: 0.75, random: 0.25, text: 0 });
    expect(s.workload.dirtyRate).toBe(50000);
    expect(s.link.bandwidth).toBe(Infinity);
    expect(s.precopy.maxBandwidth).toBe(128 * 2 ** 20);
    expect(s.precopy.downtimeLimitMs).toBe(1000);
    expect(s.precopy.maxRounds).toBe(5);
  });

  it('defaults the working set to the whole memory of a small guest, and maxBandwidth to the link', () => {
    const s = resolveScenario({ guest: { memory: '16MiB' }, link: { bandwidth: '100Mbit/s' } });
    expect(s.workload.workingSet).toBe(16 * 2 ** 20);
    expect(s.precopy.maxBandwidth).toBe(12_500_000);
  });

  it('accepts zstd with its own level range (QEMU multifd-zstd-level 0 … 20)', () => {
    const s = resolveScenario({ precopy: { compression: 'zstd', compressionLevel: 19 } });
    expect(s.precopy.compression).toBe('zstd');
    expect(s.precopy.compressionLevel).toBe(19);
    expect(resolveScenario({ precopy: { compression: 'zstd' } }).precopy.compressionLevel).toBe(1);
  });

  it('a resolved scenario, written as JSON, resolves to itself', () => {
    const s = resolveScenario({ link: { bandwidth: 'unlimited' }, guest: { fill: 'text' }, precopy: { policy: 'xen', policyParams: { xenVariant: 'legacy' }, autoConverge: true } });
    expect(s.precopy.policyParams.xenMaxIterations).toBe(30);
    const json = scenarioToJson(s) as { link: { bandwidth: unknown } };
    expect(json.link.bandwidth).toBe('unlimited');
    expect(resolveScenario(json)).toEqual(s);
  });

  it('documents every key it accepts', () => {
    // `fleet` is null by default: document it and its keys (resolved from a fleet)
    const documented = SCENARIO_KEYS.map((k) => k.key).filter((k) => k !== 'fleet').sort();
    expect(SCENARIO_KEYS.map((k) => k.key)).toContain('fleet');
    const resolved = scenarioToJson(resolveScenario({ fleet: { count: 2, concurrency: 1 } })) as Record<string, unknown>;
    const keys = new Set<string>();
    for (const [k, v] of Object.entries(resolved)) {
      if (v && typeof v === 'object' && k !== 'fill') for (const kk of Object.keys(v)) keys.add(`${k}.${kk}`);
      else keys.add(k);
    }
    // `orchestrator` holds the chosen kind's settings only: each kind's, resolved with that kind
    for (const kind of ['kubevirt', 'kubevirt-stall', 'nova', 'proxmox', 'ovirt', 'virsh']) {
      for (const k of Object.keys(resolveScenario({ orchestrator: { kind } }).orchestrator)) keys.add(`orchestrator.${k}`);
    }
    expect(documented).toEqual([...keys].sort());
  });
});

describe('link.transport tcp', () => {
  it('resolves a target and a token file', () => {
    expect(resolveScenario({ link: { transport: 'tcp', target: '[::1]:4444', tokenFile: 'tok' } }).link).toEqual({ bandwidth: 125_000_000, latencyMs: 0, transport: 'tcp', target: '[::1]:4444', tokenFile: 'tok', tls: null });
  });
});

describe('resolveScenario refuses bad input with the key, the rule and the value', () => {
  it.each<[string, unknown, RegExp]>([
    ['unknown top-level key', { nmae: 'x' }, /^nmae: unknown key .*got "x"$/],
    ['unknown nested key', { guest: { memroy: '1GiB' } }, /^guest\.memroy: unknown key/],
    ['section not an object', { guest: 5 }, /^guest: expected an object, got 5$/],
    ['scenario not an object', [1, 2], /^scenario: expected a JSON object/],
    ['unparseable size', { guest: { memory: '64 potatoes' } }, /^guest\.memory: expected a size like "64MiB", got "64 potatoes"$/],
    ['negative size', { guest: { memory: -1 } }, /^guest\.memory: expected a size .*got -1$/],
    ['zero memory', { guest: { memory: 0 } }, /^guest\.memory: must be greater than 0, got 0$/],
    ['page size not a power of two', { guest: { pageSize: 3000 } }, /^guest\.pageSize: must be a power of two, got 3000$/],
    ['page size too small', { guest: { pageSize: 256 } }, /^guest\.pageSize: must be from 512 B to 2 MiB, got 256$/],
    ['memory not a multiple of the page size', { guest: { memory: 10000 } }, /^guest\.memory: must be a multiple of guest\.pageSize \(4096 B\), got 10000$/],
    ['too many vCPUs', { guest: { vcpus: 65 } }, /^guest\.vcpus: expected an integer from 1 to 64, got 65$/],
    ['zero vCPUs', { guest: { vcpus: 0 } }, /^guest\.vcpus: expected an integer from 1 to 64, got 0$/],
    ['vCPUs as a string', { guest: { vcpus: 'two' } }, /^guest\.vcpus: expected a number, got "two"$/],
    ['fractional vCPUs', { guest: { vcpus: 1.5 } }, /^guest\.vcpus: expected an integer/],
    ['bad fill kind', { guest: { fill: 'ones' } }, /^guest\.fill: expected one of "zero", "random", "text", got "ones"$/],
    ['bad fill weight', { guest: { fill: { zero: -1, random: 1 } } }, /^guest\.fill\.zero: must not be negative, got -1$/],
    ['unknown fill kind', { guest: { fill: { ones: 1 } } }, /^guest\.fill\.ones: unknown key/],
    ['fill weights all zero', { guest: { fill: { zero: 0 } } }, /^guest\.fill: weights must add up to more than 0/],
    ['unknown pattern', { workload: { pattern: 'random' } }, /^workload\.pattern: expected one of "idle", "uniform", "hotset", "zipf", "sequential", got "random"$/],
    ['bad dirty rate', { workload: { dirtyRate: 'fast' } }, /^workload\.dirtyRate: expected page writes per second like "20000\/s", got "fast"$/],
    ['negative dirty rate', { workload: { dirtyRate: -5 } }, /^workload\.dirtyRate: .*got -5$/],
    ['working set larger than memory', { guest: { memory: '64MiB' }, workload: { workingSet: '128MiB' } }, /^workload\.workingSet: must not exceed guest\.memory \(64\.0 MiB\), got "128MiB"$/],
    ['zero working set', { workload: { workingSet: 0 } }, /^workload\.workingSet: must be greater than 0, got 0$/],
    ['hot fraction above 1', { workload: { hotFraction: 1.5 } }, /^workload\.hotFraction: must be from 0 to 1, got 1\.5$/],
    ['zipf exponent 0', { workload: { zipfExponent: 0 } }, /^workload\.zipfExponent: must be greater than 0/],
    ['write bytes above page size', { workload: { writeBytes: 5000 } }, /^workload\.writeBytes: expected an integer from 1 to guest\.pageSize \(4096\), got 5000$/],
    ['zero bandwidth', { link: { bandwidth: 0 } }, /^link\.bandwidth: expected a rate like "1Gbit\/s", "128MiB\/s" or "unlimited", got 0$/],
    ['bandwidth without unit', { link: { bandwidth: '1G' } }, /^link\.bandwidth: expected a rate/],
    ['negative latency', { link: { latencyMs: -1 } }, /^link\.latencyMs: expected milliseconds .*got -1$/],
    ['zero downtime limit', { precopy: { downtimeLimitMs: 0 } }, /^precopy\.downtimeLimitMs: must be greater than 0, got 0$/],
    ['unknown policy', { precopy: { policy: 'kvm' } }, /^precopy\.policy: expected one of "qemu", "xen", "hyperv", "phaul", "cloud-hypervisor", "vmotion", got "kvm"$/],
    ['a parameter of another policy', { precopy: { policy: 'qemu', policyParams: { xenVariant: 'legacy' } } }, /^precopy\.policyParams\.xenVariant: not a parameter of policy "qemu" \(it takes: availSwitchoverBandwidth\); xenVariant is a parameter of policy "xen", got "legacy"$/],
    ['a bad policy parameter', { precopy: { policy: 'phaul', policyParams: { phaulMaxIterations: 0 } } }, /^precopy\.policyParams\.phaulMaxIterations: expected an integer >= 1, got 0$/],
    ['a bad xen variant', { precopy: { policy: 'xen', policyParams: { xenVariant: 'old' } } }, /^precopy\.policyParams\.xenVariant: expected one of "simple", "legacy", got "old"$/],
    ['auto-converge out of range', { precopy: { autoConverge: { initial: 120 } } }, /^precopy\.autoConverge\.initial: must be from 1 to 99 \(percent\), got 120$/],
    ['auto-converge unknown key', { precopy: { autoConverge: { step: 5 } } }, /^precopy\.autoConverge\.step: unknown key/],
    ['dirty limit with auto-converge', { precopy: { autoConverge: true, dirtyLimit: '1MB/s' } }, /^precopy\.dirtyLimit: cannot be used together with precopy\.autoConverge/],
    ['unlimited dirty limit', { precopy: { dirtyLimit: 'unlimited' } }, /^precopy\.dirtyLimit: expected a finite rate/],
    ['bad storage bandwidth', { quick: { storageBandwidth: 'fast' } }, /^quick\.storageBandwidth: expected a rate/],
    ['bad image format', { quick: { format: 'qcow2' } }, /^quick\.format: expected one of "stream", "mapped", got "qcow2"$/],
    ['keepImage not a boolean', { quick: { keepImage: 'yes' } }, /^quick\.keepImage: expected true or false, got "yes"$/],
    ['restore not eager or lazy', { quick: { restore: 'later' } }, /^quick\.restore: expected one of "eager", "lazy", got "later"$/],
    ['empty quick.path', { quick: { path: '' } }, /^quick\.path: expected a non-empty path or null/],
    ['an XBZRLE cache that is not a power of two', { precopy: { xbzrle: { enabled: true, cacheSize: '3MiB' } } }, /^precopy\.xbzrle\.cacheSize: must be a power of two of at least one page \(4096 B\), got "3MiB"$/],
    ['an unknown compression', { precopy: { compression: 'lz4' } }, /^precopy\.compression: expected one of "none", "zlib", "zstd", got "lz4"$/],
    ['a zlib level out of range', { precopy: { compressionLevel: 12 } }, /^precopy\.compressionLevel: expected an integer from 0 to 9, got 12$/],
    ['a zlib level of zstd\'s range', { precopy: { compression: 'zlib', compressionLevel: 15 } }, /^precopy\.compressionLevel: expected an integer from 0 to 9, got 15$/],
    ['a zstd level out of range', { precopy: { compression: 'zstd', compressionLevel: 21 } }, /^precopy\.compressionLevel: expected an integer from 0 to 20 for zstd, got 21$/],
    ['a fractional zstd level', { precopy: { compression: 'zstd', compressionLevel: 1.5 } }, /^precopy\.compressionLevel: expected an integer from 0 to 20 for zstd, got 1\.5$/],
    ['zero channels', { precopy: { channels: 0 } }, /^precopy\.channels: expected an integer from 1 to 16, got 0$/],
    ['too many channels', { precopy: { channels: 17 } }, /^precopy\.channels: expected an integer from 1 to 16, got 17$/],
    ['a fractional channel count', { precopy: { channels: 2.5 } }, /^precopy\.channels: expected an integer from 1 to 16, got 2\.5$/],
    ['channels as text', { precopy: { channels: 'two' } }, /^precopy\.channels: expected a number, got "two"$/],
    ['an XBZRLE cache smaller than a page per channel', { precopy: { channels: 4, xbzrle: { enabled: true, cacheSize: '8KiB' } } }, /^precopy\.xbzrle\.cacheSize: must hold at least one page \(4096 B\) per channel with precopy\.channels 4, got "8KiB"$/],
    ['an unknown XBZRLE key', { precopy: { xbzrle: { on: true } } }, /^precopy\.xbzrle\.on: unknown key/],
    ['zero max rounds', { precopy: { maxRounds: 0 } }, /^precopy\.maxRounds: expected an integer >= 1 or null, got 0$/],
    ['zero timeout', { precopy: { timeoutMs: 0 } }, /^precopy\.timeoutMs: must be greater than 0, got 0$/],
    ['bad onTimeout', { precopy: { onTimeout: 'wait' } }, /^precopy\.onTimeout: expected one of "cancel", "force", got "wait"$/],
    ['empty name', { name: '' }, /^name: expected a non-empty string, got ""$/],
    ['negative seed', { seed: -3 }, /^seed: expected an integer from 0 to 4294967295, got -3$/],
    ['an unknown transport', { link: { transport: 'udp' } }, /^link\.transport: expected one of "memory", "tcp", got "udp"$/],
    ['tcp without a target', { link: { transport: 'tcp' } }, /^link\.target: is required with link\.transport "tcp".*got nothing$/],
    ['a target without a port', { link: { transport: 'tcp', target: '10.0.0.2' } }, /^link\.target: expected "HOST:PORT".*got "10\.0\.0\.2"$/],
    ['a target with the memory transport', { link: { target: '10.0.0.2:4444' } }, /^link\.target: is only for link\.transport "tcp", got "10\.0\.0\.2:4444"$/],
    ['a token file with the memory transport', { link: { tokenFile: 'token' } }, /^link\.tokenFile: is only for link\.transport "tcp", got "token"$/],
    ['TLS with the memory transport', { link: { tls: { cert: 'c.pem', key: 'k.pem', ca: 'ca.pem' } } }, /^link\.tls\.cert: is only for link\.transport "tcp", got "c\.pem"$/],
    ['TLS without its CA', { link: { transport: 'tcp', target: '127.0.0.1:4444', tls: { cert: 'c.pem', key: 'k.pem' } } }, /^link\.tls\.ca: is required with link\.tls: the PEM file of the CA that signed the receiver's certificate, got nothing$/],
    ['TLS as a string', { link: { transport: 'tcp', target: '127.0.0.1:4444', tls: 'on' } }, /^link\.tls: expected null or an object like \{ "cert"/],
    ['a latency over tcp', { link: { transport: 'tcp', target: '127.0.0.1:4444', latencyMs: 20 } }, /^link\.latencyMs: must be 0 with link\.transport "tcp".*got 20$/],
  ])('%s', (_what, input, message) => {
    expect(messageOf(input)).toMatch(message);
  });

  it('takes channels over tcp (one connection each)', () => {
    expect(resolveScenario({ link: { transport: 'tcp', target: '127.0.0.1:4444' }, precopy: { channels: 4 } }).precopy.channels).toBe(4);
  });
});

describe('applyOverrides', () => {
  it('sets nested keys, reading JSON values and keeping other strings', () => {
    const out = applyOverrides({ guest: { vcpus: 2 } }, ['guest.vcpus=4', 'workload.dirtyRate=50000/s', 'precopy.maxRounds=null', 'guest.fill={"zero":1}']);
    expect(out).toEqual({ guest: { vcpus: 4, fill: { zero: 1 } }, workload: { dirtyRate: '50000/s' }, precopy: { maxRounds: null } });
  });
  it('does not modify its input', () => {
    const input = { guest: { vcpus: 2 } };
    applyOverrides(input, ['guest.vcpus=4']);
    expect(input.guest.vcpus).toBe(2);
  });
  it.each(['novalue', '=5', 'a..b=1', '__proto__.x=1'])('refuses %s', (s) => {
    expect(() => applyOverrides({}, [s])).toThrow(MigbenchError);
  });
  it.each<[unknown, string]>([
    [[], '[]'],
    [[{ guest: {} }], '[{"guest":{}}]'],
    ['hotset', '"hotset"'],
    [3, '3'],
    [null, 'null'],
    [true, 'true'],
  ])('refuses a scenario that is not an object (%j), in one line, instead of running the default one', (input, shown) => {
    let error: unknown;
    try {
      applyOverrides(input, []);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MigbenchError);
    expect((error as MigbenchError).code).toBe('E_SCENARIO');
    expect((error as Error).message).toBe(`scenario: expected a JSON object (a scenario), got ${shown}`);
  });
  it('refuses a deeply nested scenario with E_SCENARIO, not a RangeError from structuredClone (found by fuzzing)', () => {
    const deep = JSON.parse(`{"guest":{"fill":${'['.repeat(20000)}1${']'.repeat(20000)}}}`) as unknown;
    let error: unknown;
    try {
      applyOverrides(deep, []);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MigbenchError);
    expect((error as MigbenchError).code).toBe('E_SCENARIO');
    expect((error as Error).message).toBe('scenario: nested more than 100 levels deep (a scenario nests a few)');
  });
  it('names a deeply nested non-object in one line (found by fuzzing: the message itself threw a RangeError)', () => {
    const deep = JSON.parse(`[${'['.repeat(20000)}1${']'.repeat(20000)}]`) as unknown;
    let error: unknown;
    try {
      applyOverrides(deep, []);
    } catch (e) {
      error = e;
    }
    expect((error as MigbenchError).code).toBe('E_SCENARIO');
    expect((error as Error).message).toBe('scenario: expected a JSON object (a scenario), got an array');
  });
  it('resolving a resolved scenario gives the same scenario: fill weights are normalized once (found by fuzzing)', () => {
    const s = resolveScenario({ guest: { fill: { zero: 0.00035505003262685514, text: 0.2 } } });
    const again = resolveScenario(JSON.parse(JSON.stringify(scenarioToJson(s))));
    expect(again.guest.fill).toEqual(s.guest.fill);
    expect(resolveScenario({ guest: { fill: { zero: 1, random: 3 } } }).guest.fill).toEqual({ zero: 0.25, random: 0.75, text: 0 });
  });
  it('no scenario at all (undefined) is the default one', () => {
    expect(applyOverrides(undefined, ['guest.vcpus=4'])).toEqual({ guest: { vcpus: 4 } });
  });
  it('an unknown key set with --set is refused by validation', () => {
    expect(messageOf(applyOverrides({}, ['guest.memroy=1GiB']))).toMatch(/^guest\.memroy: unknown key/);
  });
});

describe('README', () => {
  it('documents every scenario key', async () => {
    const { readFileSync } = await import('node:fs');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const { key } of SCENARIO_KEYS) expect(readme).toContain(`\`${key}\``);
  });
});

describe('input guidance (issue 18 item 8)', () => {
  const refusal = (input: unknown): string => {
    try {
      resolveScenario(input);
    } catch (error) {
      expect(error).toBeInstanceOf(MigbenchError);
      return (error as Error).message;
    }
    throw new Error(`accepted ${JSON.stringify(input)}`);
  };

  it.each<[string, unknown, string]>([
    ['a typo in a block', { workload: { dirtyRte: '50000/s' } }, 'workload.dirtyRte: unknown key (did you mean workload.dirtyRate?); known: pattern, dirtyRate, '],
    ['a transposition', { guest: { memroy: '1GiB' } }, 'guest.memroy: unknown key (did you mean guest.memory?); '],
    ['a typo at the top', { nmae: 'x' }, 'nmae: unknown key (did you mean name?); '],
    ['a typo in a block name', { guset: {} }, 'guset: unknown key (did you mean guest?); '],
    ['a top-level key that belongs in precopy', { downtimeLimitMs: 300 }, 'downtimeLimitMs: unknown key (did you mean precopy.downtimeLimitMs?); '],
    ['a top-level key that belongs in guest', { memory: '1GiB' }, 'memory: unknown key (did you mean guest.memory?); '],
    ['a top-level key that belongs in link', { bandwidth: '1Gbit/s' }, 'bandwidth: unknown key (did you mean link.bandwidth?); '],
    ['a top-level key two blocks down', { cacheSize: '64MiB' }, 'cacheSize: unknown key (did you mean precopy.xbzrle.cacheSize?); '],
    ['a key in the wrong block', { guest: { dirtyRate: 5 } }, 'guest.dirtyRate: unknown key (did you mean workload.dirtyRate?); known: memory, '],
    ['a key without its unit suffix', { link: { latency: 5 } }, 'link.latency: unknown key (did you mean link.latencyMs?); '],
    ['snake_case', { precopy: { downtime_limit_ms: 300 } }, 'precopy.downtime_limit_ms: unknown key (did you mean precopy.downtimeLimitMs?); '],
    ["QEMU's spelling", { precopy: { 'max-bandwidth': '1Gbit/s' } }, 'precopy.max-bandwidth: unknown key (did you mean precopy.maxBandwidth?); '],
    ['a nested typo', { precopy: { xbzrle: { cachesize: '1MiB' } } }, 'precopy.xbzrle.cachesize: unknown key (did you mean precopy.xbzrle.cacheSize?); known: enabled, cacheSize, got "1MiB"'],
    ['a dotted key', { 'precopy.downtimeLimitMs': 300 }, 'precopy.downtimeLimitMs: unknown key (a key is one name, not a path: nest it, { "precopy": { "downtimeLimitMs": … } }); '],
    ['a policy parameter typo', { precopy: { policy: 'xen', policyParams: { xenMaxIteration: 3 } } }, 'precopy.policyParams.xenMaxIteration: not a parameter of policy "xen" (it takes: xenVariant, xenMaxIterations, xenTargetDirtyPages, xenMaxFactor); did you mean xenMaxIterations?, got 3'],
    ["another policy's parameter", { precopy: { policyParams: { xenMaxIterations: 3 } } }, 'precopy.policyParams.xenMaxIterations: not a parameter of policy "qemu" (it takes: availSwitchoverBandwidth); xenMaxIterations is a parameter of policy "xen", got 3'],
    // decimal sizes refused for their value say they are decimal and give the binary spelling
    ['1GB of memory', { guest: { memory: '1GB' } }, 'guest.memory: "1GB" is decimal, 1,000,000,000 bytes, not a multiple of guest.pageSize (4096 B); write "1GiB" for 1,073,741,824 bytes, got "1GB"'],
    ['a decimal page size', { guest: { pageSize: '4KB' } }, 'guest.pageSize: "4KB" is decimal, 4,000 bytes, not a power of two; write "4KiB" for 4,096 bytes, got "4KB"'],
    ['a decimal XBZRLE cache', { precopy: { xbzrle: { cacheSize: '64MB' } } }, 'precopy.xbzrle.cacheSize: "64MB" is decimal, 64,000,000 bytes, not a power of two; write "64MiB" for 67,108,864 bytes, got "64MB"'],
    // units in bits for a size, rates without a unit or a "/s"
    ['a size in bits (lowercase b)', { guest: { memory: '1gib' } }, 'guest.memory: expected a size like "64MiB" (a lowercase "b" or "bit" is bits and a size is in bytes: did you mean "1GiB"?), got "1gib"'],
    ['a size in megabits', { guest: { memory: '64Mb' } }, 'guest.memory: expected a size like "64MiB" (a lowercase "b" or "bit" is bits and a size is in bytes: did you mean "64MiB" (binary) or "64MB" (decimal)?), got "64Mb"'],
    ['a size with "/s"', { workload: { workingSet: '1GiB/s' } }, 'workload.workingSet: expected a size like "64MiB" (a size has no "/s": did you mean "1GiB"?), got "1GiB/s"'],
    ['a rate string without a unit', { link: { bandwidth: '1000' } }, 'link.bandwidth: expected a rate like "1Gbit/s", "128MiB/s" or "unlimited" (a rate needs a unit, bits or bytes: did you mean "1000Mbit/s" or "1000MB/s"?), got "1000"'],
    ['a rate without "/s"', { link: { bandwidth: '10Gbit' } }, 'link.bandwidth: expected a rate like "1Gbit/s", "128MiB/s" or "unlimited" (a rate is per second: did you mean "10Gbit/s"?), got "10Gbit"'],
    ['a binary prefix on bits', { precopy: { maxBandwidth: '1mib/s' } }, 'precopy.maxBandwidth: expected a rate like "1Gbit/s", "128MiB/s" or "unlimited" (binary prefixes are for bytes ("b" is bits): did you mean "1MiB/s" or "1Mbit/s"?), got "1mib/s"'],
  ])('%s', (_what, input, message) => {
    expect(refusal(input).startsWith(message), refusal(input)).toBe(true);
    expect(refusal(input)).not.toContain('\n');
  });

  it('keeps the old message where there is nothing near to suggest', () => {
    expect(refusal({ zzz: 1 })).toBe('zzz: unknown key (known: name, seed, guest, workload, link, precopy, quick, postcopy, orchestrator, faults, fleet), got 1');
    expect(refusal({ guest: { memory: 10000 } })).toBe('guest.memory: must be a multiple of guest.pageSize (4096 B), got 10000');
    expect(refusal({ guest: { memory: '64 potatoes' } })).toBe('guest.memory: expected a size like "64MiB", got "64 potatoes"');
  });

  it('a mistyped --set path gets the same suggestion', () => {
    expect(refusal(applyOverrides({}, ['workload.dirtyRte=50000/s']))).toMatch(/^workload\.dirtyRte: unknown key \(did you mean workload\.dirtyRate\?\)/);
    expect(refusal(applyOverrides({}, ['downtimeLimitMs=30']))).toMatch(/^downtimeLimitMs: unknown key \(did you mean precopy\.downtimeLimitMs\?\)/);
  });

  it('every key path is searched: each documented key is suggested for its own name at the top level', () => {
    for (const { key } of SCENARIO_KEYS) {
      if (!key.includes('.')) continue;
      const leaf = key.slice(key.lastIndexOf('.') + 1);
      if (leaf === 'path' || leaf === 'dir') continue; // not at the top: quick.path and quick.dir are checked below
      if (leaf === 'preempt') continue; // at the top it is nearest to the block `precopy` (same block first); checked below
      if (leaf === 'kind') continue; // at the top it is nearest to the block `link`; checked below
      expect(suggestKey('', leaf), key).toMatch(new RegExp(`did you mean (.* or )?${key.replace(/\./g, '\\.')}[ ,?]`));
    }
    expect(suggestKey('', 'path')).toBe('did you mean quick.path?');
    expect(suggestKey('postcopy', 'preemt')).toBe('did you mean postcopy.preempt?');
    expect(suggestKey('orchestrator', 'knd')).toBe('did you mean orchestrator.kind?');
  });

  it.each<[string, unknown, string[]]>([
    ['a decimal memory size that is a multiple of the page size', { guest: { memory: '64MB' } }, ['guest.memory: "64MB" is decimal, 64,000,000 bytes (61.0 MiB); write "64MiB" for 64.0 MiB, or 64000000 to keep this size without this warning']],
    ['a decimal working set', { workload: { workingSet: '1MB' } }, ['workload.workingSet: "1MB" is decimal, 1,000,000 bytes (977 KiB); write "1MiB" for 1.00 MiB, or 1000000 to keep this size without this warning']],
    ['a decimal size whose binary spelling is not whole bytes', { guest: { memory: '8.192MB' } }, ['guest.memory: "8.192MB" is decimal, 8,192,000 bytes (7.81 MiB); binary units are KiB, MiB, GiB, TiB, or 8192000 to keep this size without this warning']],
    ['binary units', { guest: { memory: '64MiB', deviceState: '256K' }, workload: { workingSet: 65536 } }, []],
    ['rates in decimal units are not sizes', { link: { bandwidth: '100MB/s' }, precopy: { dirtyLimit: '1MB/s' } }, []],
  ])('scenarioWarnings: %s', (_what, input, warnings) => {
    resolveScenario(input); // valid, accepted as it reads
    expect(scenarioWarnings(input)).toEqual(warnings);
  });

  it('64MB of memory is accepted as 64,000,000 bytes (the warning is the only difference)', () => {
    expect(resolveScenario({ guest: { memory: '64MB' } }).guest.memory).toBe(64_000_000);
  });

  it.each<[string, string[], string[]]>([
    ['a bare number for a byte rate on the command line names bytes/s', ['link.bandwidth=1000'], ['--set link.bandwidth=1000: a bare number is read as bytes/s, 1000 B/s (8.00 kbit/s); give the unit you mean, e.g. "1000MiB/s" or "1000Mbit/s" ("1000B/s" keeps this reading without this warning)']],
    ['an exponent', ['precopy.maxBandwidth=1e9'], ['--set precopy.maxBandwidth=1e9: a bare number is read as bytes/s, 954 MiB/s (8.00 Gbit/s); give the unit you mean, e.g. "1000000000MiB/s" or "1000000000Mbit/s" ("1000000000B/s" keeps this reading without this warning)']],
    ['every byte rate', ['quick.storageBandwidth=5', 'precopy.dirtyLimit=5', 'precopy.policyParams.availSwitchoverBandwidth=5'], ['quick.storageBandwidth', 'precopy.dirtyLimit', 'precopy.policyParams.availSwitchoverBandwidth']],
    ['a rate with a unit', ['link.bandwidth=1Gbit/s', 'precopy.maxBandwidth="128MiB/s"'], []],
    ['page writes per second have one unit', ['workload.dirtyRate=50000'], []],
    ['not a rate', ['guest.vcpus=4', 'precopy.downtimeLimitMs=300'], []],
  ])('overrideWarnings: %s', (_what, sets, expected) => {
    const warnings = overrideWarnings(sets);
    expect(warnings).toHaveLength(expected.length);
    warnings.forEach((w, i) => expect(w.startsWith(expected[i]!.startsWith('--set') ? expected[i]! : `--set ${expected[i]}=5: a bare number is read as bytes/s, 5 B/s (40 bit/s)`), w).toBe(true));
  });
});

describe('post-copy keys (issue 14 item 1)', () => {
  it('resolves postcopy and workload.readRate', () => {
    const s = resolveScenario({ postcopy: { enabled: true, startAfterRounds: 3, maxBandwidth: '100MiB/s', preempt: false }, workload: { readRate: '5k/s' } });
    expect(s.postcopy).toEqual({ enabled: true, startAfterRounds: 3, maxBandwidth: 100 * 2 ** 20, preempt: false, recovery: false });
    expect(s.workload.readRate).toBe(5000);
    expect(resolveScenario({ faults: { linkDownAtMs: '2s', linkDownForMs: 500 } }).faults).toEqual({ linkDownAtMs: 2000, linkDownForMs: 500 });
  });
  it.each<[unknown, RegExp]>([
    [{ postcopy: { enabled: 'yes' } }, /^postcopy\.enabled: expected true or false, got "yes"$/],
    [{ postcopy: { startAfterRounds: 0 } }, /^postcopy\.startAfterRounds: expected an integer from 1 to 1000, got 0$/],
    [{ postcopy: { maxBandwidth: 'fast' } }, /^postcopy\.maxBandwidth: expected a rate/],
    [{ postcopy: { preemt: true } }, /^postcopy\.preemt: unknown key \(did you mean postcopy\.preempt\?\)/],
    [{ workload: { readRate: 'lots' } }, /^workload\.readRate: expected page reads per second like "5000\/s", got "lots"$/],
    [{ faults: { linkDownAtMs: 'soon' } }, /^faults\.linkDownAtMs: expected milliseconds/],
    [{ faults: { linkDownForMs: -1 } }, /^faults\.linkDownForMs: /],
  ])('refuses %j', (input, message) => {
    expect(messageOf(input)).toMatch(message);
  });
});
