/**
 * CRC-32 of a concatenation from the CRCs of its parts (zlib's crc32_combine): crc32(A ‖ B) from
 * crc32(A), crc32(B) and B's length, without B's bytes. Lazy restore needs it: a page the guest faulted
 * in was checksummed when it was read, and the background reader, which skips it, still checks the
 * chunk's CRC over every page of the chunk in order.
 *
 * In the reflected representation (polynomial 0xEDB88320, bit 31 = x^0):
 *   crc32(A ‖ B) = crc32(A) · x^(8·|B|) mod P  XOR  crc32(B)
 * x^(8·n) comes from a table of x^(2^k) mod P by square-and-multiply over n's bits. Pure.
 */
const POLY = 0xedb88320;

/** a(x) · b(x) mod P, both reflected 32-bit polynomials. */
function multiplyModP(a: number, b: number): number {
  let product = 0;
  for (let i = 0; i < 32; i++) {
    if ((a & (0x80000000 >>> i)) !== 0) product ^= b;
    b = (b & 1) !== 0 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return product >>> 0;
}

/** X2N[k] = x^(2^k) mod P. */
const X2N = (() => {
  const t = new Uint32Array(32);
  let p = 0x40000000; // x^1
  for (let k = 0; k < 32; k++) {
    t[k] = p;
    p = multiplyModP(p, p);
  }
  return t;
})();

/** x^(8·bytes) mod P. */
function shiftOf(bytes: number): number {
  let p = 0x80000000; // x^0
  let n = bytes;
  for (let k = 3; n > 0; k++, n = Math.floor(n / 2)) {
    if (n % 2 === 1) p = multiplyModP(X2N[k & 31], p);
  }
  return p;
}

/** crc32(A ‖ B), given crc32(A) = `crcA`, crc32(B) = `crcB` and B's length in bytes. */
export function crc32Combine(crcA: number, crcB: number, bytesB: number): number {
  if (!Number.isInteger(bytesB) || bytesB < 0) throw new RangeError(`crc32Combine: a length in bytes >= 0, got ${bytesB}`);
  return (multiplyModP(shiftOf(bytesB), crcA >>> 0) ^ (crcB >>> 0)) >>> 0;
}
