/**
 * One live progress bar on stderr (cli-progress) for what runs between two progress lines: allocating a
 * guest, a pre-copy round. Shown only where `showProgressBar` allows (a terminal, not --quiet); a line
 * written while it shows clears it first, so lines and bar never overprint.
 */
import cliProgress from 'cli-progress';

export class LiveBar {
  private bar: cliProgress.SingleBar | null = null;
  private label = '';

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly enabled: boolean,
  ) {}

  /** Show `label` at `value` of `total` (`unit` after the counts), starting the bar if needed. */
  show(label: string, value: number, total: number, format: (n: number) => string): void {
    if (!this.enabled || !(total > 0)) return;
    const v = Math.min(Math.max(0, value), total);
    const payload = { label, done: format(v), all: format(total) };
    if (this.bar === null || this.label !== label) {
      this.clear();
      this.label = label;
      this.bar = new cliProgress.SingleBar(
        { format: ' {bar} {percentage}% | {label}: {done} of {all}', stream: this.stream, hideCursor: true, clearOnComplete: true, barsize: 30 },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, v, payload);
    } else {
      this.bar.setTotal(total);
      this.bar.update(v, payload);
    }
  }

  /** Take the bar off the screen (before a line is written, and at the end). */
  clear(): void {
    this.bar?.stop();
    this.bar = null;
    this.label = '';
  }
}
