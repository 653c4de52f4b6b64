/**
 * A small WebAssembly assembler: the instructions the XBZRLE kernel (xbzrle-kernel.ts) is written in,
 * named after the WebAssembly text format (`get(L)` is local.get L, `add` is i32.add, `i8x16Eq` is
 * i8x16.eq, …), and the container for a module of one function over an imported memory. A listing is a
 * nested array of bytes (`Code`); `assembleModule` flattens it. No binary blob, no build step.
 *
 * Pure: imports nothing.
 */

export type Code = readonly (number | Code)[];

function lebU(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

function lebS(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function flatten(code: Code): number[] {
  const out: number[] = [];
  for (const x of code) {
    if (typeof x === 'number') out.push(x);
    else out.push(...flatten(x));
  }
  return out;
}

export const wasmI32 = 0x7f;
export const wasmI64 = 0x7e;
export const wasmVoid = 0x40;
// instructions
export const get = (local: number): Code => [0x20, ...lebU(local)];
export const set = (local: number): Code => [0x21, ...lebU(local)];
export const tee = (local: number): Code => [0x22, ...lebU(local)];
export const i32c = (v: number): Code => [0x41, ...lebS(v)];
export const i64c = (v: number): Code => [0x42, ...lebS(v)];
export const block = (...body: Code[]): Code => [0x02, wasmVoid, ...body, 0x0b];
export const loop = (...body: Code[]): Code => [0x03, wasmVoid, ...body, 0x0b];
export const when = (...body: Code[]): Code => [0x04, wasmVoid, ...body, 0x0b]; // if (condition on the stack)
export const ifElse = (then: Code, otherwise: Code): Code => [0x04, wasmVoid, ...then, 0x05, ...otherwise, 0x0b];
export const br = (depth: number): Code => [0x0c, ...lebU(depth)];
export const brIf = (depth: number): Code => [0x0d, ...lebU(depth)];
export const ret: Code = [0x0f];
export const eqz: Code = [0x45];
export const eq: Code = [0x46];
export const ne: Code = [0x47];
export const ltU: Code = [0x49];
export const gtU: Code = [0x4b];
export const leU: Code = [0x4d];
export const geU: Code = [0x4f];
export const ctz: Code = [0x68];
export const add: Code = [0x6a];
export const sub: Code = [0x6b];
export const and: Code = [0x71];
export const or: Code = [0x72];
export const xor: Code = [0x73];
export const shl: Code = [0x74];
export const shrU: Code = [0x76];
export const i64Ctz: Code = [0x7a];
export const i64Or: Code = [0x84];
export const i64Xor: Code = [0x85];
export const i64Shl: Code = [0x86];
export const i32WrapI64: Code = [0xa7];
export const i64ExtendI32U: Code = [0xad];
export const load8u: Code = [0x2d, 0, 0]; // i32.load8_u align=1 offset=0
export const store8 = (offset: number): Code => [0x3a, 0, ...lebU(offset)];
export const store16 = (offset: number): Code => [0x3b, 0, ...lebU(offset)]; // i32.store16 align=1
export const v128Load = (offset: number): Code => [0xfd, 0x00, 0, ...lebU(offset)];
export const v128Store: Code = [0xfd, 0x0b, 0, 0];
export const i8x16Eq: Code = [0xfd, 0x23];
export const v128Or: Code = [0xfd, 0x50];
export const v128Xor: Code = [0xfd, 0x51];
export const v128AnyTrue: Code = [0xfd, 0x53];
export const i8x16Bitmask: Code = [0xfd, 0x64];
export const select: Code = [0x1b];
export const i64Eqz: Code = [0x50];
export const i64And: Code = [0x83];
export const memoryCopy: Code = [0xfc, 0x0a, 0, 0];

/** One exported function over an imported memory (`env.memory`). Value types: wasmI32, wasmI64. */
export interface FunctionModule {
  /** the function's export name */
  name: string;
  params: readonly number[];
  results: readonly number[];
  /** the locals after the parameters, as groups of [count, value type] */
  locals: readonly (readonly [number, number])[];
  code: Code;
}

/** The binary module: type, import (env.memory, min 0), function, export and code sections. */
export function assembleModule(fn: FunctionModule): Uint8Array {
  const vec = (items: number[][]): number[] => [...lebU(items.length), ...items.flat()];
  const name = (text: string): number[] => [...lebU(text.length), ...Array.from(text, (ch) => ch.charCodeAt(0))];
  const section = (id: number, body: number[]): number[] => [id, ...lebU(body.length), ...body];
  const body = [...vec(fn.locals.map((group) => [...group])), ...flatten(fn.code), 0x0b];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, vec([[0x60, ...vec(fn.params.map((t) => [t])), ...vec(fn.results.map((t) => [t]))]])), // types
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x00]])), // import env.memory, min 0
    ...section(3, vec([[0]])), // one function of type 0
    ...section(7, vec([[...name(fn.name), 0x00, 0x00]])), // export it
    ...section(10, vec([[...lebU(body.length), ...body]])), // its code
  ]);
}
