/**
 * The shared secret of a TCP migration (link.tokenFile on the sender, `receive --token-file` on the
 * receiver): the file's text without surrounding whitespace. It proves the sender knows the secret (an
 * HMAC over the receiver's fresh nonce and the hello); it is never sent itself. No file: an empty token,
 * which the other side must also have.
 */
import { readFileSync } from 'node:fs';
import { MigbenchError, type ErrorCode } from '../errors.ts';

export const MAX_TOKEN_BYTES = 4096;

export function readToken(path: string | null, label: string, code: ErrorCode): Uint8Array {
  if (path === null) return new Uint8Array(0);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'file not found' : e.code === 'EISDIR' ? 'it is a directory' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new MigbenchError(code, `${label}: cannot read the token file ${JSON.stringify(path)} (${why})`);
  }
  const token = Buffer.from(text.trim(), 'utf8');
  if (token.length === 0) throw new MigbenchError(code, `${label}: the token file ${JSON.stringify(path)} is empty`);
  if (token.length > MAX_TOKEN_BYTES) throw new MigbenchError(code, `${label}: the token in ${JSON.stringify(path)} is longer than ${MAX_TOKEN_BYTES} bytes`);
  return token;
}
