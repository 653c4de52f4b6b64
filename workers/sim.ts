/**
 * A simulate-mode pool worker (piscina, started from workers/boot.mjs): one task is one scenario
 * simulated and reduced to the figures its caller keeps (src/pool/pool.ts). Errors come back as values.
 */
import { simulateTaskReply } from '../src/pool/pool.ts';

export default simulateTaskReply;
