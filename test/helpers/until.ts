/**
 * Wait for a condition that must become true at any speed (a vCPU writing again, a worker getting
 * scheduled): poll it every few ms and fail only after `guardMs`, a hang guard far beyond what any
 * machine needs, not a speed assertion. Use it instead of "sleep N ms, then expect": on a busy machine
 * a thread may not run at all within N ms.
 */
export async function until(what: string, condition: () => boolean, guardMs = 20_000): Promise<void> {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > guardMs) throw new Error(`until: ${what} did not happen within ${guardMs} ms (a hang guard)`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
