/**
 * A simulate-mode pool worker (piscina, started from workers/boot.mjs): one task is one scenario
 * simulated and reduced to the figures its caller keeps (src/sim/pool.ts). Errors come back as values.
 */
import { simulateTaskReply } from '../src/sim/pool.ts';

export default simulateTaskReply;
