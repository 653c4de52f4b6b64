/** `migbench image inspect FILE`: header, summary and validation of a kept quick-migration image. */
import { statSync, type Stats } from 'node:fs';
import { MigbenchError } from '../errors.ts';
import { inspectImage } from '../quick/inspect.ts';
import { fileKind } from '../quick/image-file.ts';
import { stripControls } from '../quick/image-format.ts';
import { colorsFor } from '../report/style.ts';
import { formatBytes, formatCount } from '../units.ts';

export async function imageInspectCommand(path: string, options: { json: boolean }): Promise<number> {
  // A file that is not there is a bad command line (exit 2), not a damaged image (exit 3).
  // (a FIFO, a device or a directory swapped in after this check is refused by the reader's own fstat)
  let st: Stats;
  try {
    st = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new MigbenchError('E_USAGE', `image inspect: expected an image file, got ${shown(path)} (${code === 'ENOENT' ? 'no such file' : code ?? 'cannot read it'})`);
  }
  if (!st.isFile()) throw new MigbenchError('E_USAGE', `image inspect: expected an image file, got ${shown(path)} (${fileKind(st)}, not a regular file)`);
  const r = await inspectImage(path);
  const h = r.header;
  if (options.json) {
    // JSON escapes C0 controls itself; DEL and C1 controls are escaped too, so none reaches a terminal raw
    const json = JSON.stringify({ path, valid: true, header: h, fileBytes: r.fileBytes, pages: r.pages, zeroPages: r.zeroPages, normalPages: r.normalPages }, null, 2);
    process.stdout.write(`${json.replace(/[\u007f-\u009f]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`);
    return 0;
  }
  // the summary is for a person: stderr (the JSON document, with --json, is data: stdout)
  const c = colorsFor(process.stderr);
  // the header's strings come from the file: control characters (escape sequences) are stripped
  const lines = [
    `${stripControls(path)}: ${c.green('valid')} migbench image (every checksum verified)`,
    `  format        ${h.format}`,
    `  written by    ${stripControls(h.tool)} at ${stripControls(h.createdAt)}`,
    `  page size     ${formatBytes(h.pageSize)}`,
    `  pages         ${formatCount(h.pageCount)} (${formatBytes(h.pageCount * h.pageSize)}) in ${h.blocks.length} RAM block${h.blocks.length === 1 ? '' : 's'}: ${h.blocks.map((b) => formatCount(b)).join(', ')}`,
    `  normal pages  ${formatCount(r.normalPages)}`,
    `  zero pages    ${formatCount(r.zeroPages)} (${h.format === 'mapped' ? 'not written: holes in the sparse file' : 'records without payload'})`,
    `  device state  ${formatBytes(h.deviceStateBytes)}`,
    `  file size     ${formatBytes(r.fileBytes)}${h.format === 'mapped' ? ` (data from offset ${formatCount(h.mapped!.dataOffset)})` : ''}`,
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
  return 0;
}

/** A path as a message shows it: quoted, without control characters. */
function shown(path: string): string {
  return stripControls(JSON.stringify(path));
}
