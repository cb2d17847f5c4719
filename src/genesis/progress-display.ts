import { formatProgressBar, formatProgressLine, type ProgressSnapshot } from './progress-format';

/** The part of a writable stream the display needs (process.stdout in the CLI). */
export interface DisplayStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** Plain progress lines at most this often (the first and the last are always written). */
export const PLAIN_LINE_INTERVAL_MS = 2_000;

/**
 * Shows a run's progress: on a terminal one bar redrawn in place; otherwise (a pipe, a log
 * collector) plain lines, at most one every PLAIN_LINE_INTERVAL_MS. Messages go through `line()`
 * so they never land in the middle of the bar.
 */
export class ProgressDisplay {
  private readonly tty: boolean;
  private barShown = false;
  private lastLineAt: number | undefined;
  private pending: ProgressSnapshot | undefined;

  constructor(
    private readonly stream: DisplayStream,
    private readonly now: () => number,
  ) {
    this.tty = stream.isTTY === true;
  }

  update(progress: ProgressSnapshot): void {
    if (this.tty) {
      this.stream.write(`\r${formatProgressBar(progress)}\x1b[K`);
      this.barShown = true;
      return;
    }
    const at = this.now();
    if (this.lastLineAt !== undefined && at - this.lastLineAt < PLAIN_LINE_INTERVAL_MS) {
      this.pending = progress;
      return;
    }
    this.writePlain(progress, at);
  }

  /** A message on a line of its own (the bar, if shown, is redrawn by the next update). */
  line(text: string): void {
    this.clearBar();
    this.stream.write(`${text}\n`);
  }

  /** Writes the last state (the final bar or the progress line held back), then ends the bar. */
  finish(): void {
    if (this.pending !== undefined && !this.tty) this.writePlain(this.pending, this.now());
    if (this.barShown) this.stream.write('\n');
    this.barShown = false;
  }

  private writePlain(progress: ProgressSnapshot, at: number): void {
    this.pending = undefined;
    this.lastLineAt = at;
    this.stream.write(`${formatProgressLine(progress)}\n`);
  }

  private clearBar(): void {
    if (!this.barShown) return;
    this.stream.write('\r\x1b[K');
    this.barShown = false;
  }
}
