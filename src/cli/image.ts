/** `migbench image inspect FILE`: header, summary and validation of a kept quick-migration image. */
import { statSync } from 'node:fs';
import { MigbenchError } from '../errors.ts';
import { inspectImage } from '../quick/inspect.ts';
import { colorsFor } from '../report/style.ts';
import { formatBytes, formatCount } from '../units.ts';

export async function imageInspectCommand(path: string, options: { json: boolean }): Promise<number> {
  // A file that is not there is a bad command line (exit 2), not a damaged image (exit 3).
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new MigbenchError('E_USAGE', `image inspect: expected an image file, got ${JSON.stringify(path)} (${code === 'ENOENT' ? 'no such file' : code ?? 'cannot read it'})`);
  }
  if (!isFile) throw new MigbenchError('E_USAGE', `image inspect: expected an image file, got ${JSON.stringify(path)} (not a regular file)`);
  const r = await inspectImage(path);
  const h = r.header;
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ path, valid: true, header: h, fileBytes: r.fileBytes, pages: r.pages, zeroPages: r.zeroPages, normalPages: r.normalPages }, null, 2)}\n`);
    return 0;
  }
  const c = colorsFor(process.stdout);
  const lines = [
    `${path}: ${c.green('valid')} migbench image (every checksum verified)`,
    `  format        ${h.format}`,
    `  written by    ${h.tool} at ${h.createdAt}`,
    `  page size     ${formatBytes(h.pageSize)}`,
    `  pages         ${formatCount(h.pageCount)} (${formatBytes(h.pageCount * h.pageSize)}) in ${h.blocks.length} RAM block${h.blocks.length === 1 ? '' : 's'}: ${h.blocks.map((b) => formatCount(b)).join(', ')}`,
    `  normal pages  ${formatCount(r.normalPages)}`,
    `  zero pages    ${formatCount(r.zeroPages)} (${h.format === 'mapped' ? 'not written: holes in the sparse file' : 'records without payload'})`,
    `  device state  ${formatBytes(h.deviceStateBytes)}`,
    `  file size     ${formatBytes(r.fileBytes)}${h.format === 'mapped' ? ` (data from offset ${formatCount(h.mapped!.dataOffset)})` : ''}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
