/** Durations on the command line and in settings: `500ms`, `45s`, `30m`, `12h`, `3d`, `2w`, combinable (`1h30m`). */
const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = pattern.exec(trimmed); match !== null; match = pattern.exec(trimmed)) {
    total += Number(match[1]) * (UNITS_MS[match[2] as string] as number);
    consumed = pattern.lastIndex;
  }
  if (trimmed === '' || consumed !== trimmed.length) {
    throw new RangeError(`"${text}" is not a duration (examples: 500ms, 45s, 30m, 12h, 3d, 1h30m)`);
  }
  return total;
}
