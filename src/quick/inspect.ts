/** `migbench image inspect`: read a whole image, check every checksum, and summarise it. */
import { realClock } from '../clock.ts';
import { restoreImage, type RestoreReport } from './restore.ts';
import { StoragePacer } from './storage.ts';

/** Validates the image end to end without a destination; throws E_IMAGE_CORRUPT or E_IO. */
export async function inspectImage(path: string): Promise<RestoreReport> {
  return restoreImage(path, null, new StoragePacer(Infinity, realClock));
}
