/**
 * Terminal styling for human output on stderr: colour only on a TTY, never under NO_COLOR or
 * TERM=dumb (https://no-color.org), and FORCE_COLOR to insist.
 */
import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

export function colorsFor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): Colors {
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0';
  const enabled = forced || (Boolean(stream.isTTY) && env.NO_COLOR === undefined && env.TERM !== 'dumb');
  return pc.createColors(enabled);
}
