/**
 * What is at a path, as `lstat` (or `fstat` on an open file) sees it, and its name in messages. Shared by
 * the output-file writer (cli/) and the image files (quick/), which both refuse anything but a regular
 * file. Pure.
 */
import type { Stats } from 'node:fs';

/** What is at a path (a symbolic link is not followed). */
export type NodeKind = 'absent' | 'file' | 'directory' | 'symlink' | 'char-device' | 'block-device' | 'fifo' | 'socket' | 'other';

export const KIND_WORDS: Record<NodeKind, string> = {
  absent: 'nothing',
  file: 'a regular file',
  directory: 'a directory',
  symlink: 'a symbolic link',
  'char-device': 'a character device',
  'block-device': 'a block device',
  fifo: 'a FIFO',
  socket: 'a socket',
  other: 'not a regular file',
};

export function kindOf(s: Stats | null): NodeKind {
  if (s === null) return 'absent';
  if (s.isFile()) return 'file';
  if (s.isDirectory()) return 'directory';
  if (s.isSymbolicLink()) return 'symlink';
  if (s.isCharacterDevice()) return 'char-device';
  if (s.isBlockDevice()) return 'block-device';
  if (s.isFIFO()) return 'fifo';
  if (s.isSocket()) return 'socket';
  return 'other';
}

/** "a FIFO", "a directory", … for messages. */
export function describeKind(s: Stats): string {
  return KIND_WORDS[kindOf(s)];
}
