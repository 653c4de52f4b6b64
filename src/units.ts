/**
 * Unit parsing and formatting for user-facing values.
 *
 * Parsers take `unknown` and return a value in base units, or `null` when the
 * input is not acceptable (they never throw; the caller writes the error).
 * Every string form is `<number> <unit>`: surrounding whitespace is ignored,
 * spaces between the number and the unit are optional, and the number is a
 * plain unsigned decimal (`12`, `1.5`, `.5`; no sign, exponent or separators).
 *
 * One rule for case, in every kind: unit names are case-insensitive except the letter b, which
 * says bits or bytes: `B` is bytes, `b` is bits (`bit`, spelled out, is bits in any case). So
 * "1gbit/s" = "1Gbit/s" = "1Gb/s" (bits), "1GB/s" = "1gB/s" (bytes), and "1gib" is gibibits (not a size).
 *
 *   size  (bytes, integer)     <n>[unit]          unit: B | K M G T P (binary, QEMU style)
 *                                                  | KiB MiB GiB TiB PiB | KB MB GB TB PB (decimal)
 *                              a size is in bytes: a unit in bits ("64Mb", "1gib", "8Mbit") is
 *                              refused (`sizeUnitHint` says what was probably meant). The result
 *                              must be a whole number of bytes no larger than Number.MAX_SAFE_INTEGER.
 *   rate  (bytes/s, > 0)       "unlimited" → Infinity, or <n><prefix><core><per>
 *                              prefix: none | k m g t (decimal) | ki mi gi ti (bytes only)
 *                              core:   bit | b  → bits (÷ 8);  B → bytes
 *                              per:    /s | ps            e.g. 1Gbit/s, 1Gbps, 10MB/s, 128MiB/s
 *   per-second (>= 0)          <n>[k|m|g][/s]     e.g. 20000/s, 20000, 20k/s, 1.5M/s
 *   duration (ms, >= 0)        <n>[unit]          unit: us µs ms s m min h; no unit = ms
 *
 * Numbers passed directly are taken to be in base units already (bytes,
 * bytes/s, events/s, ms) and only range-checked.
 *
 * Formatters use 3 significant digits ("1.50 KiB", "64.0 MiB", "512 KiB").
 */

// ---------------------------------------------------------------------------
// Shared parsing helpers
// ---------------------------------------------------------------------------

/** An unsigned decimal number held exactly: value = digits / 10^scale. */
interface Decimal {
  digits: bigint;
  scale: number;
}

/** `<number><spaces?><unit>` with surrounding whitespace; unit may be empty. */
const NUMBER_THEN_UNIT = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(.*?)\s*$/s;

/** Split a string into its leading decimal number and the unit text after it. */
function splitNumberUnit(input: string): { num: Decimal; unit: string } | null {
  const m = NUMBER_THEN_UNIT.exec(input);
  if (m === null) return null;
  const text = m[1]!;
  const dot = text.indexOf('.');
  const intPart = dot === -1 ? text : text.slice(0, dot);
  const fracPart = dot === -1 ? '' : text.slice(dot + 1);
  return {
    num: { digits: BigInt((intPart || '0') + fracPart), scale: fracPart.length },
    unit: m[2]!,
  };
}

/**
 * num × numer / denom as a float. Exact integers in the numerator and a single
 * correctly rounded division mean e.g. "1.1 s" gives exactly 1100, not 1100.0000000000002.
 */
function scale(num: Decimal, numer: bigint, denom: bigint = 1n): number {
  return Number(num.digits * numer) / Number(10n ** BigInt(num.scale) * denom);
}

/** A finite number >= 0 (or > 0 when `strict`), else null. -0 becomes 0. */
function checkNumber(n: number, strict: boolean): number | null {
  if (!Number.isFinite(n)) return null;
  if (strict ? !(n > 0) : !(n >= 0)) return null;
  return n === 0 ? 0 : n;
}

// ---------------------------------------------------------------------------
// Sizes
// ---------------------------------------------------------------------------

const KI = 1024n;
/** Size units, keyed by lowercase spelling (the lowercase-`b` check happens first). */
const SIZE_UNITS: ReadonlyMap<string, bigint> = new Map([
  ['', 1n],
  ['b', 1n],
  ['k', KI],
  ['m', KI ** 2n],
  ['g', KI ** 3n],
  ['t', KI ** 4n],
  ['p', KI ** 5n],
  ['kib', KI],
  ['mib', KI ** 2n],
  ['gib', KI ** 3n],
  ['tib', KI ** 4n],
  ['pib', KI ** 5n],
  ['kb', 1000n],
  ['mb', 1000n ** 2n],
  ['gb', 1000n ** 3n],
  ['tb', 1000n ** 4n],
  ['pb', 1000n ** 5n],
]);

/** Bytes (a non-negative safe integer), or null. See the file comment for the grammar. */
export function parseSizeBytes(input: unknown): number | null {
  if (typeof input === 'number') {
    return Number.isSafeInteger(input) && input >= 0 ? input + 0 : null;
  }
  if (typeof input !== 'string') return null;
  const parsed = splitNumberUnit(input);
  if (parsed === null) return null;
  const { num, unit } = parsed;
  if (unit.endsWith('b')) return null; // lowercase b = bits
  const mult = SIZE_UNITS.get(unit.toLowerCase());
  if (mult === undefined) return null;
  // Exact rational arithmetic: the product must be a whole number of bytes.
  const numer = num.digits * mult;
  const denom = 10n ** BigInt(num.scale);
  if (numer % denom !== 0n) return null;
  const bytes = numer / denom;
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(bytes);
}

/**
 * A size written with a decimal unit (kB MB GB TB PB, which `parseSizeBytes` accepts as powers of
 * 1000): its bytes and the same number with the binary unit ("64MB" → 64000000, "64MiB"; null when
 * that is not a whole number of bytes, "1.1KiB"), or null for anything else (a number, a binary or
 * bare unit, a string that is not a size).
 */
export function decimalSize(input: unknown): { bytes: number; binary: string | null } | null {
  if (typeof input !== 'string') return null;
  const bytes = parseSizeBytes(input);
  const m = /^\s*([\d.]+)\s*([kmgtp])B\s*$/i.exec(input);
  if (bytes === null || m === null) return null;
  const binary = `${m[1]}${m[2]!.toUpperCase()}iB`;
  return { bytes, binary: parseSizeBytes(binary) === null ? null : binary };
}

/**
 * Why a string is not a size, when it is one of the near misses people type, with the size they
 * probably meant; null when there is nothing better to say than "expected a size". Near misses: a
 * unit in bits (lowercase b, or "bit": a size is in bytes), a rate ("/s").
 */
export function sizeUnitHint(input: unknown): string | null {
  if (typeof input !== 'string' || parseSizeBytes(input) !== null) return null;
  const parsed = NUMBER_THEN_UNIT.exec(input);
  if (parsed === null) return null;
  const n = parsed[1]!;
  const perSecond = /^(.*?)\s*(\/s|ps)$/i.exec(parsed[2]!);
  const unit = perSecond ? perSecond[1]! : parsed[2]!;
  const bits = /^([kmgtp]?)(i?)(b|bit)$/i.exec(unit);
  if (bits === null || (bits[3] === 'B' && !perSecond)) return null;
  const p = bits[1]!.toUpperCase();
  const meant = bits[2] || p === '' ? `"${n}${p}${p ? 'i' : ''}B"` : `"${n}${p}iB" (binary) or "${n}${p === 'K' ? 'k' : p}B" (decimal)`;
  if (perSecond) return `a size has no "/s": did you mean ${bits[3] === 'B' ? `"${n}${unit}"` : meant}?`;
  return `a lowercase "b" or "bit" is bits and a size is in bytes: did you mean ${meant}?`;
}

// ---------------------------------------------------------------------------
// Rates
// ---------------------------------------------------------------------------

const DECIMAL_PREFIX: Readonly<Partial<Record<string, bigint>>> = {
  '': 1n,
  k: 1000n,
  m: 1000n ** 2n,
  g: 1000n ** 3n,
  t: 1000n ** 4n,
};
const BINARY_PREFIX: Readonly<Partial<Record<string, bigint>>> = {
  ki: KI,
  mi: KI ** 2n,
  gi: KI ** 3n,
  ti: KI ** 4n,
};

/** prefix, core (bit | b | B), per-second suffix (/s | ps). */
const RATE_UNIT = /^([kmgt]i?)?(bit|b|B)(\/s|ps)$/i;

/** Bytes per second (> 0, possibly fractional), Infinity for "unlimited", or null. */
export function parseRateBytesPerSec(input: unknown): number | null {
  if (typeof input === 'number') return checkNumber(input, true);
  if (typeof input !== 'string') return null;
  if (input.trim().toLowerCase() === 'unlimited') return Infinity;
  const parsed = splitNumberUnit(input);
  if (parsed === null) return null;
  const m = RATE_UNIT.exec(parsed.unit);
  if (m === null) return null;
  const prefix = (m[1] ?? '').toLowerCase();
  const core = m[2]!;
  // `RATE_UNIT` is case-insensitive for the prefix; the core decides bits vs bytes.
  const isBits = core.toLowerCase() === 'bit' || core === 'b';
  const mult = DECIMAL_PREFIX[prefix] ?? (isBits ? undefined : BINARY_PREFIX[prefix]);
  if (mult === undefined) return null; // e.g. binary bit prefixes ("Mibit/s")
  const rate = scale(parsed.num, mult, isBits ? 8n : 1n);
  return checkNumber(rate, true);
}

/**
 * Why a string is not a rate, for the near misses people type, with the rate they probably meant;
 * null when there is nothing better to say. Near misses: no unit ("1000": bits or bytes?), no "/s"
 * ("1Gbit", "1GB"), a binary prefix on bits ("1Mib/s": binary prefixes are for bytes).
 */
export function rateUnitHint(input: unknown): string | null {
  if (typeof input !== 'string' || parseRateBytesPerSec(input) !== null) return null;
  const parsed = NUMBER_THEN_UNIT.exec(input);
  if (parsed === null) return null;
  const n = parsed[1]!;
  const unit = parsed[2]!;
  if (unit === '') return `a rate needs a unit, bits or bytes: did you mean "${n}Mbit/s" or "${n}MB/s"?`;
  if (/^[kmgt]$/i.test(unit)) return `a rate needs bits or bytes per second: did you mean "${n}${unit.toUpperCase()}bit/s" or "${n}${unit.toUpperCase()}B/s"?`;
  const noPer = /^([kmgt]?)(i?)(bit|b)$/i.exec(unit);
  if (noPer !== null && !(noPer[2] && noPer[3] !== 'B')) return `a rate is per second: did you mean "${n}${unit}/s"?`;
  const binaryBits = /^([kmgt])i(bit|b)(\/s|ps)$/i.exec(unit);
  if (binaryBits !== null && binaryBits[2] !== 'B') {
    const p = binaryBits[1]!.toUpperCase();
    return `binary prefixes are for bytes ("b" is bits): did you mean "${n}${p}iB/s" or "${n}${p === 'K' ? 'k' : p}bit/s"?`;
  }
  return null;
}

// ---------------------------------------------------------------------------
// Per-second counts
// ---------------------------------------------------------------------------

/** Keyed by lowercase spelling: case-insensitive, as every unit name without a b. */
const COUNT_MULT: Readonly<Record<string, bigint>> = {
  '': 1n,
  k: 1000n,
  m: 1000n ** 2n,
  g: 1000n ** 3n,
};
const PER_SECOND_UNIT = /^([kmg]?)(\/s)?$/i;

/** Events (page writes) per second, >= 0, or null. */
export function parsePerSecond(input: unknown): number | null {
  if (typeof input === 'number') return checkNumber(input, false);
  if (typeof input !== 'string') return null;
  const parsed = splitNumberUnit(input);
  if (parsed === null) return null;
  const m = PER_SECOND_UNIT.exec(parsed.unit);
  if (m === null) return null;
  return checkNumber(scale(parsed.num, COUNT_MULT[m[1]!.toLowerCase()]!), false);
}

// ---------------------------------------------------------------------------
// Durations
// ---------------------------------------------------------------------------

/** Duration units as ms = n × numer / denom, keyed by lowercase spelling. */
const DURATION_UNITS: ReadonlyMap<string, readonly [bigint, bigint]> = new Map([
  ['', [1n, 1n]],
  ['us', [1n, 1000n]],
  ['µs', [1n, 1000n]], // U+00B5 micro sign
  ['μs', [1n, 1000n]], // U+03BC Greek mu
  ['ms', [1n, 1n]],
  ['s', [1000n, 1n]],
  ['m', [60_000n, 1n]],
  ['min', [60_000n, 1n]],
  ['h', [3_600_000n, 1n]],
]);

/** Milliseconds (>= 0, possibly fractional), or null. */
export function parseDurationMs(input: unknown): number | null {
  if (typeof input === 'number') return checkNumber(input, false);
  if (typeof input !== 'string') return null;
  const parsed = splitNumberUnit(input);
  if (parsed === null) return null;
  const unit = DURATION_UNITS.get(parsed.unit.toLowerCase());
  if (unit === undefined) return null;
  return checkNumber(scale(parsed.num, unit[0], unit[1]), false);
}

// ---------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------

/**
 * A non-negative finite number with 3 significant digits: "1.50", "64.0", "512",
 * "1023" (no exponent for large values). Below 1, trailing zeros are dropped:
 * "0.25", "0.5", "0.123", "0.00123" (and "1.23e-7" for values below 1e-6).
 */
function sig3(v: number): string {
  if (v === 0) return '0';
  if (v < 1) {
    const p = v.toPrecision(3);
    if (Number(p) < 1) return p.includes('e') ? p : p.replace(/\.?0+$/, '');
  }
  const two = v.toFixed(2);
  if (Number(two) < 10) return two;
  const one = v.toFixed(1);
  if (Number(one) < 100) return one;
  return v.toFixed(0);
}

/**
 * Scale `v` (>= 0, finite) through `units` (each `step` times the last) and
 * format it. A unit is used until its rounded value reaches `step`, so a
 * value that rounds up to the step rolls over ("1.00 MiB", not "1024 KiB").
 * The base unit prints integers without decimals ("512 B", "8 bit/s").
 */
function scaled(v: number, units: readonly string[], step: number): string {
  let i = 0;
  let x = v;
  while (i < units.length - 1 && x >= step) {
    x /= step;
    i++;
  }
  let text = i === 0 && Number.isInteger(x) ? String(x) : sig3(x);
  if (Number(text) >= step && i < units.length - 1) {
    i++;
    text = sig3(x / step);
  }
  return `${text} ${units[i]}`;
}

/** Run `f` on |n| and prefix "-" for negatives; non-finite values print as-is. */
function signed(n: number, suffix: string, f: (abs: number) => string): string {
  if (Number.isNaN(n) || n === Infinity || n === -Infinity) return `${n} ${suffix}`.trimEnd();
  return n < 0 ? `-${f(-n)}` : f(n + 0);
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;
const BIT_RATE_UNITS = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s'] as const;

/** Bytes in binary units, 3 significant digits: 1536 → "1.50 KiB". */
export function formatBytes(bytes: number): string {
  return signed(bytes, 'B', (b) => scaled(b, BYTE_UNITS, 1024));
}

/** Bytes/s as decimal bits/s: 125000000 → "1.00 Gbit/s"; Infinity → "unlimited". */
export function formatBitRate(bytesPerSec: number): string {
  if (bytesPerSec === Infinity) return 'unlimited';
  return signed(bytesPerSec, 'bit/s', (r) => scaled(r * 8, BIT_RATE_UNITS, 1000));
}

/** Bytes/s in binary units: 134217728 → "128 MiB/s"; Infinity → "unlimited". */
export function formatByteRate(bytesPerSec: number): string {
  if (bytesPerSec === Infinity) return 'unlimited';
  return `${formatBytes(bytesPerSec)}/s`;
}

/**
 * Milliseconds for humans, 3 significant digits: "0.25 ms", "12.3 ms", "300 ms",
 * "1.25 s", "65.0 s", "10.0 min", "2.50 h". Milliseconds roll to seconds at
 * 1000 ms; seconds roll to minutes, and minutes to hours, once the value
 * would print as 100 or more.
 */
export function formatDurationMs(ms: number): string {
  return signed(ms, 'ms', (v) => {
    const inMs = sig3(v);
    if (Number(inMs) < 1000) return `${inMs} ms`;
    const inS = sig3(v / 1000);
    if (Number(inS) < 100) return `${inS} s`;
    const inMin = sig3(v / 60_000);
    if (Number(inMin) < 100) return `${inMin} min`;
    return `${sig3(v / 3_600_000)} h`;
  });
}

/** Integer with "," thousands separators: 262144 → "262,144". Rounds half away from zero. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const rounded = Math.round(Math.abs(n));
  const digits = BigInt(rounded).toString();
  const grouped = digits.replace(/\B(?=(\d{3})+$)/g, ',');
  return n < 0 && rounded !== 0 ? `-${grouped}` : grouped;
}

/** "1 run", "5 runs", "0 runs": a count with its noun, plural unless the count is exactly 1. */
export function plural(n: number, noun: string, nouns = `${noun}s`): string {
  return `${formatCount(n)} ${n === 1 ? noun : nouns}`;
}
