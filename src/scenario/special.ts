/**
 * The readers of the keys whose value no plain kind describes: `guest.fill` (a kind or an object of
 * weights), `precopy.autoConverge` (true, false, null or an object of throttle steps) and
 * `link.target` (required with one transport, refused with the other). Their
 * sub-keys are declared in the key table like any other key; these only choose between the forms.
 */
import type { AutoConverge, Scenario } from './types.ts';
import type { KeyContext } from './kinds.ts';
import { fail, isPlainObject } from './refuse.ts';
import { parseHostPort } from '../transport/tcp-wire.ts';

export const FILL_KINDS = ['zero', 'random', 'text'] as const;

/** `guest.fill`: "zero" | "random" | "text", or weights normalized to add up to 1. */
export function resolveFill(v: unknown, ctx: KeyContext): Scenario['guest']['fill'] {
  if (typeof v === 'string') {
    if (!(FILL_KINDS as readonly string[]).includes(v)) fail('guest.fill', `expected one of ${FILL_KINDS.map((k) => `"${k}"`).join(', ')}`, v);
    return { zero: v === 'zero' ? 1 : 0, random: v === 'random' ? 1 : 0, text: v === 'text' ? 1 : 0 };
  }
  if (!isPlainObject(v)) fail('guest.fill', 'expected "zero", "random", "text" or an object of weights like { "zero": 0.3, "random": 0.7 }', v);
  const w = ctx.block('guest.fill', v) as { zero: number; random: number; text: number };
  const sum = w.zero + w.random + w.text;
  if (!(sum > 0)) fail('guest.fill', 'weights must add up to more than 0', v);
  // Weights that already add up to 1 (to rounding) are kept as they are: dividing normalized weights
  // by their float sum moves them by an ulp, so a result's resolved scenario, resolved again, had
  // other weights (found by fuzzing).
  if (Math.abs(sum - 1) <= 1e-12) return w;
  return { zero: w.zero / sum, random: w.random / sum, text: w.text / sum };
}

/** `precopy.autoConverge`: null when off; true takes QEMU's steps; an object sets some of them. */
export function resolveAutoConverge(v: unknown, ctx: KeyContext): AutoConverge | null {
  if (v === false || v === null) return null;
  if (v !== true && !isPlainObject(v)) fail('precopy.autoConverge', 'expected true, false or { initial, increment, max, triggerThreshold }', v);
  const out = ctx.block('precopy.autoConverge', v === true ? {} : v) as unknown as AutoConverge;
  if (out.initial > out.max) fail('precopy.autoConverge.initial', `must not exceed max (${out.max})`, out.initial);
  return out;
}

/** `link.target`: "HOST:PORT" of `migbench receive`, required with link.transport "tcp" and refused otherwise. */
export function resolveLinkTarget(v: unknown, ctx: KeyContext): string | null {
  if (ctx.get('link.transport') !== 'tcp') {
    if (v === undefined || v === null) return null;
    fail('link.target', 'is only for link.transport "tcp"', v);
  }
  if (v === undefined || v === null) fail('link.target', 'is required with link.transport "tcp": where `migbench receive` listens, like "127.0.0.1:4444"', v);
  if (typeof v !== 'string' || parseHostPort(v) === null) fail('link.target', 'expected "HOST:PORT" (IPv6 as "[::1]:PORT") with a port from 0 to 65535', v);
  return v;
}
