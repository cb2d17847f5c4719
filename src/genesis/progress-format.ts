/**
 * Progress of a genesis run as text, pure: the measured rate and ETA (clock passed in) and the two
 * renderings, a bar for a terminal and a plain line for logs.
 */

/** Where a run stands. `examined` counts every id taken from a page (sent + skipped). */
export interface ProgressSnapshot {
  readonly runId: string;
  readonly examined: number;
  readonly sent: number;
  readonly skipped: number;
  /** Estimated number of ids to examine; null when it could not be counted. */
  readonly total: number | null;
  /** Ids examined per second lately; null before there is anything to measure. */
  readonly ratePerSecond: number | null;
  /** Time left at that rate; null when the total or the rate is unknown. */
  readonly etaMs: number | null;
}

interface Sample {
  readonly at: number;
  readonly examined: number;
}

/**
 * Measures the rate over a sliding window (default 10 s), so the ETA follows a change of pace
 * (a database under load, a paced run) instead of averaging it away over hours.
 */
export class ProgressMeter {
  private readonly samples: Sample[] = [];

  constructor(
    private readonly now: () => number,
    startExamined: number,
    private readonly windowMs = 10_000,
  ) {
    this.samples.push({ at: now(), examined: startExamined });
  }

  /** Records a new count; returns the rate (ids/s) and ETA for `total`. */
  sample(examined: number, total: number | null): { ratePerSecond: number | null; etaMs: number | null } {
    const at = this.now();
    this.samples.push({ at, examined });
    // Keep the newest sample that is at least a window old as the baseline.
    while (this.samples.length > 2 && (this.samples[1] as Sample).at <= at - this.windowMs) this.samples.shift();
    const base = this.samples[0] as Sample;
    const elapsedMs = at - base.at;
    if (elapsedMs <= 0) return { ratePerSecond: null, etaMs: null };
    const ratePerSecond = ((examined - base.examined) * 1000) / elapsedMs;
    return { ratePerSecond, etaMs: estimateEtaMs(examined, total, ratePerSecond) };
  }
}

export function estimateEtaMs(examined: number, total: number | null, ratePerSecond: number | null): number | null {
  if (total === null || ratePerSecond === null) return null;
  const left = Math.max(0, total - examined);
  if (left === 0) return 0;
  if (ratePerSecond <= 0) return null;
  return Math.ceil((left / ratePerSecond) * 1000);
}

/** `45s`, `3m05s`, `1h02m`, `2d03h`; under a second is `0s`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor((s % 86_400) / 3600))}h`;
}

/** `1,234,567` (fixed grouping, whatever the machine's locale). */
export function formatCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `152/s`, `1,500/s`, `2.5/s`. */
export function formatRate(ratePerSecond: number): string {
  return ratePerSecond < 10 ? `${(Math.round(ratePerSecond * 10) / 10).toFixed(1)}/s` : `${formatCount(ratePerSecond)}/s`;
}

/** Share done as `45.0%` (capped at 100%: the total is an estimate), or null without a total. */
export function formatPercent(examined: number, total: number | null): string | null {
  if (total === null) return null;
  if (total <= 0) return '100.0%';
  return `${Math.min(100, (examined * 100) / total).toFixed(1)}%`;
}

function details(p: ProgressSnapshot): string[] {
  return [
    `sent ${formatCount(p.sent)}`,
    `skipped ${formatCount(p.skipped)}`,
    p.ratePerSecond === null ? 'rate ?' : formatRate(p.ratePerSecond),
    p.etaMs === null ? 'ETA ?' : `ETA ${formatDuration(p.etaMs)}`,
  ];
}

function counted(p: ProgressSnapshot): string {
  return p.total === null ? formatCount(p.examined) : `${formatCount(p.examined)}/${formatCount(p.total)}`;
}

/** The terminal form: `genesis 12 [██████░░░░] 45.0% 4,500/10,000 sent 4,500 skipped 0 152/s ETA 36s`. */
export function formatProgressBar(p: ProgressSnapshot, width = 24): string {
  const percent = formatPercent(p.examined, p.total);
  const parts = [`genesis ${p.runId}`];
  if (p.total !== null) {
    const filled = p.total <= 0 ? width : Math.min(width, Math.floor((p.examined / p.total) * width));
    parts.push(`[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`, percent as string);
  }
  parts.push(counted(p), ...details(p));
  return parts.join(' ');
}

/** The log form: `genesis run 12: 4,500/10,000 (45.0%), sent 4,500, skipped 0, 152/s, ETA 36s`. */
export function formatProgressLine(p: ProgressSnapshot): string {
  const percent = formatPercent(p.examined, p.total);
  return `genesis run ${p.runId}: ${counted(p)}${percent === null ? '' : ` (${percent})`}, ${details(p).join(', ')}`;
}
