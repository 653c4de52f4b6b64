/**
 * Input generators for the fuzz properties: mostly mutations of valid encodings made by the real
 * encoders (bit flips, overwritten bytes, 32-bit fields set to extremes, truncation, extension,
 * splices, insertions, deletions), plus fully random inputs; for JSON documents, structural mutations
 * of valid documents (dropped keys, wrong types, null/Infinity/huge numbers, huge arrays, deep
 * nesting, non-objects at the top, markup in a field: in place of a string or of a number, or after
 * a number's digits).
 *
 * Every mutation is data (a fast-check value, so counterexamples print and shrink) applied by a plain
 * function; positions are drawn as naturals and reduced modulo the input's length when applied.
 */
import fc from 'fast-check';

// ---------------------------------------------------------------------------
// Bytes
// ---------------------------------------------------------------------------

/** 32-bit values decoders treat specially: lengths at and around limits, signs, powers of two. */
export const EXTREME_U32 = [
  0, 1, 2, 7, 8, 47, 48, 63, 64, 65, 255, 256, 511, 512, 1023, 1024, 4095, 4096, 4097, 16383, 16384, 65535, 65536, 65537,
  0x3fffffff, 0x40000000, 0x7ffffffe, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffff8, 0xfffffffe, 0xffffffff,
] as const;

export type ByteMutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'u32'; at: number; value: number; aligned: boolean }
  | { op: 'truncate'; at: number }
  | { op: 'extend'; bytes: Uint8Array }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; length: number }
  | { op: 'splice'; from: number; to: number; length: number }
  | { op: 'fill'; at: number; length: number; value: number };

const position = fc.nat({ max: 1 << 30 });
const smallBytes = fc.uint8Array({ minLength: 1, maxLength: 24 });

export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('set' as const), at: position, value: fc.oneof(fc.constantFrom(0, 0x7f, 0x80, 0xff), fc.nat({ max: 255 })) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('u32' as const),
      at: position,
      value: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...EXTREME_U32) }, { weight: 1, arbitrary: fc.nat({ max: 0xffffffff }) }),
      aligned: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: position }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('extend' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('insert' as const), at: position, bytes: smallBytes }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('splice' as const), from: position, to: position, length: fc.integer({ min: 1, max: 256 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fill' as const), at: position, length: fc.integer({ min: 1, max: 512 }), value: fc.constantFrom(0, 0xff) }) },
);

/**
 * Apply mutations to a copy of `input`. `focus` (optional) is a byte range most positions fall into
 * (e.g. a frame's header): positions are taken modulo the range's length from its start, for every
 * other mutation, so both the fields and the rest are hit.
 */
export function mutateBytes(input: Uint8Array, mutations: readonly ByteMutation[], focus?: { start: number; length: number }): Uint8Array {
  let b: Uint8Array = Uint8Array.from(input);
  mutations.forEach((m, i) => {
    const n = b.length;
    const pos = (at: number): number => {
      if (focus && i % 2 === 0 && focus.length > 0 && focus.start < n) return focus.start + (at % Math.min(focus.length, n - focus.start));
      return n === 0 ? 0 : at % n;
    };
    switch (m.op) {
      case 'flip':
        if (n > 0) b[pos(m.at)] ^= 1 << m.bit;
        break;
      case 'set':
        if (n > 0) b[pos(m.at)] = m.value;
        break;
      case 'u32': {
        if (n < 4) break;
        let at = pos(m.at) % (n - 3);
        if (m.aligned) at &= ~3;
        new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(at, m.value >>> 0, true);
        break;
      }
      case 'truncate':
        b = b.slice(0, pos(m.at));
        break;
      case 'extend': {
        const out = new Uint8Array(n + m.bytes.length);
        out.set(b);
        out.set(m.bytes, n);
        b = out;
        break;
      }
      case 'insert': {
        const at = n === 0 ? 0 : pos(m.at);
        const out = new Uint8Array(n + m.bytes.length);
        out.set(b.subarray(0, at));
        out.set(m.bytes, at);
        out.set(b.subarray(at), at + m.bytes.length);
        b = out;
        break;
      }
      case 'delete': {
        if (n === 0) break;
        const at = pos(m.at);
        const out = new Uint8Array(n - Math.min(m.length, n - at));
        out.set(b.subarray(0, at));
        out.set(b.subarray(at + m.length), at);
        b = out;
        break;
      }
      case 'splice': {
        // copy a stretch of the input over another place (a repeated record, a field from elsewhere)
        if (n === 0) break;
        const from = pos(m.from);
        const to = pos(m.to);
        const len = Math.min(m.length, n - from, n - to);
        b.copyWithin(to, from, from + len);
        break;
      }
      case 'fill': {
        if (n === 0) break;
        const at = pos(m.at);
        b.fill(m.value, at, Math.min(n, at + m.length));
        break;
      }
    }
  });
  return b;
}

export const byteMutations = (maxLength = 4): fc.Arbitrary<ByteMutation[]> => fc.array(byteMutation, { minLength: 1, maxLength });

// ---------------------------------------------------------------------------
// JSON values
// ---------------------------------------------------------------------------

/** Text tokens put into the JSON text in place of these marker strings (JSON has no Infinity or NaN). */
const RAW_TOKENS: Record<string, string> = {
  '\u0000inf': '1e999', // parses to Infinity
  '\u0000-inf': '-1e999',
  '\u0000-0': '-0',
  '\u0000big': '123456789012345678901234567890',
  '\u0000tiny': '5e-324',
};

/** Values a reader may not expect where it expects something else. */
export const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, 2 ** 53 + 2, -(2 ** 31), 1e308, '', 'NaN', '1e999', '12ms', [], {}, [null], { '': 1 }) },
  { weight: 3, arbitrary: fc.constantFrom(...Object.keys(RAW_TOKENS)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 50 }) },
  { weight: 1, arbitrary: fc.double() },
);

export type JsonMutation =
  | { op: 'delete'; pick: number }
  | { op: 'set'; pick: number; value: unknown }
  | { op: 'stringify'; pick: number } // a number or a boolean written as a string: the wrong type
  | { op: 'huge-array'; pick: number; length: number; element: unknown }
  | { op: 'deep'; pick: number; depth: number; kind: 'array' | 'object' }
  | { op: 'duplicate'; pick: number }
  | { op: 'empty'; pick: number }
  | { op: 'add-key'; pick: number; key: string; value: unknown }
  | { op: 'markup'; pick: number; payload: string; after: boolean } // markup in place of the value, or after its text ("4096<img …>")
  | { op: 'top'; value: unknown }; // replace the whole document

const pick = fc.nat({ max: 1 << 30 });

/** Markup a result document may carry into a report (issue 20): HTML of several kinds, markdown syntax. */
const MARKUP_PAYLOADS = [
  '<img src=x onerror=alert(1)>',
  '<meta http-equiv=refresh content=0>',
  '<a href=https://evil.example/>x</a>',
  '<form action=https://evil.example/><input name=q></form>',
  '<script>alert(1)</script>',
  '"><svg onload=alert(1)>',
  "'><b>",
  '</td></tr></table><h1>x',
  '&lt;b&gt;',
  '[x](https://evil.example/) ![i](https://evil.example/i.png)',
  '| a | b |\n|---|---|',
  '**bold** _em_ `code` ~~gone~~',
  '\u0000\u001b[31m',
] as const;

export const jsonMutation: fc.Arbitrary<JsonMutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('delete' as const), pick }) },
  { weight: 8, arbitrary: fc.record({ op: fc.constant('set' as const), pick, value: oddValue }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('stringify' as const), pick }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('huge-array' as const),
      pick,
      length: fc.constantFrom(1000, 10_000),
      element: fc.constantFrom<unknown>(0, 1.5, null, 'x', {}, [], -1),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('deep' as const), pick, depth: fc.constantFrom(50, 1000, 20_000), kind: fc.constantFrom('array' as const, 'object' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('duplicate' as const), pick }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('empty' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('add-key' as const), pick, key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'toString', 'length', ''), fc.string({ maxLength: 8 })), value: oddValue }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('top' as const), value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom<unknown>([], 'x', 0, null, [{}])) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('markup' as const),
      pick,
      payload: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...MARKUP_PAYLOADS) }, { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('<', '>', '&', '"', "'", '|', '\n', '[', ']', '(', ')', '`', '*', 'a', '1', ' ', '='), maxLength: 20 }) }),
      after: fc.boolean(),
    }),
  },
);

type Container = Record<string, unknown> | unknown[];
interface Slot {
  parent: Container;
  key: string | number;
}

/** Every slot (parent + key) of a JSON tree, breadth first, at most `limit` of them. */
function slots(root: unknown, limit = 4000): Slot[] {
  const out: Slot[] = [];
  const queue: unknown[] = [root];
  for (let q = 0; q < queue.length && out.length < limit; q++) {
    const node = queue[q];
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length && out.length < limit; i++) {
        out.push({ parent: node, key: i });
        queue.push(node[i]);
      }
    } else if (typeof node === 'object' && node !== null) {
      for (const k of Object.keys(node)) {
        if (out.length >= limit) break;
        out.push({ parent: node as Record<string, unknown>, key: k });
        queue.push((node as Record<string, unknown>)[k]);
      }
    }
  }
  return out;
}

function nest(depth: number, kind: 'array' | 'object'): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
  return v;
}

const getSlot = (s: Slot): unknown => (s.parent as Record<string | number, unknown>)[s.key];
const setSlot = (s: Slot, v: unknown): void => {
  (s.parent as Record<string | number, unknown>)[s.key] = v;
};

/** Apply structural mutations to a deep copy of a JSON document. */
export function mutateJson(doc: unknown, mutations: readonly JsonMutation[]): unknown {
  let root: unknown = structuredClone(doc);
  for (const m of mutations) {
    if (m.op === 'top') {
      root = structuredClone(m.value);
      continue;
    }
    const all = slots(root);
    if (all.length === 0) continue;
    const s = all[m.pick % all.length];
    switch (m.op) {
      case 'delete':
        if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 1);
        else delete s.parent[s.key as string];
        break;
      case 'set':
        setSlot(s, structuredClone(m.value));
        break;
      case 'stringify': {
        const v = getSlot(s);
        setSlot(s, typeof v === 'object' ? JSON.stringify(v) : String(v));
        break;
      }
      case 'huge-array':
        // distinct elements: a later mutation of one must not change all of them (a shared object
        // grown by later mutations made multi-megabyte documents, slow to parse rather than corrupt)
        setSlot(s, Array.from({ length: m.length }, () => structuredClone(m.element)));
        break;
      case 'deep':
        // shallow ones as values; deep ones (JSON.stringify and structuredClone give up past a few
        // thousand levels, JSON.parse does not) as a marker that jsonText writes out as text
        setSlot(s, m.depth <= 1000 ? nest(m.depth, m.kind) : `\u0000deep:${m.kind}:${m.depth}`);
        break;
      case 'duplicate':
        if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 0, structuredClone(getSlot(s)));
        else setSlot(s, [getSlot(s), getSlot(s)]);
        break;
      case 'empty': {
        const v = getSlot(s);
        setSlot(s, Array.isArray(v) ? [] : typeof v === 'object' && v !== null ? {} : typeof v === 'string' ? '' : 0);
        break;
      }
      case 'markup': {
        const v = getSlot(s);
        const text = v === null || typeof v !== 'object' ? String(v) : '';
        setSlot(s, m.after ? `${text}${m.payload}` : m.payload);
        break;
      }
      case 'add-key': {
        const v = getSlot(s);
        const target = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : (s.parent as Record<string, unknown>);
        if (!Array.isArray(target)) Object.defineProperty(target, m.key, { value: structuredClone(m.value), enumerable: true, writable: true, configurable: true });
        break;
      }
    }
  }
  return root;
}

/** JSON text of a (mutated) document, with the marker strings replaced by raw number tokens. */
export function jsonText(doc: unknown): string {
  let text = JSON.stringify(doc) ?? 'null';
  if (!text.includes('\\u0000')) return text;
  for (const [marker, token] of Object.entries(RAW_TOKENS)) text = text.split(JSON.stringify(marker)).join(token);
  return text.replace(/"\\u0000deep:(array|object):(\d+)"/g, (_all, kind: string, depth: string) => {
    const d = Number(depth);
    return kind === 'array' ? `${'['.repeat(d)}1${']'.repeat(d)}` : `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`;
  });
}

/** Mutations of a JSON text as bytes (most of them make it invalid JSON; some keep it valid). */
export const textMutations = byteMutations(3);

export function mutateText(text: string, mutations: readonly ByteMutation[]): string {
  return Buffer.from(mutateBytes(Buffer.from(text, 'utf8'), mutations)).toString('utf8');
}
