import { readFileSync } from 'node:fs';

/**
 * Summary of a V8 `.cpuprofile` (from `node --cpu-prof`): where the relay's main thread spent its
 * time, by category (relay code, pg client, node-rdkafka binding, logging, GC, native, idle) and by
 * frame (self time), plus inclusive time of the relay's own functions. librdkafka's and libpq-less
 * pg's background work on other threads is not in a V8 profile; the process CPU figures cover it.
 */
interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface FrameTime {
  readonly frame: string;
  readonly ms: number;
  /** Share of non-idle time, percent. */
  readonly pct: number;
}

export interface ProfileSummary {
  readonly file: string;
  readonly totalMs: number;
  readonly idleMs: number;
  readonly busyMs: number;
  readonly categories: readonly FrameTime[];
  readonly topSelf: readonly FrameTime[];
  readonly topInclusiveRelay: readonly FrameTime[];
}

function category(frame: CallFrame): string {
  const { functionName: fn, url } = frame;
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'garbage collector';
  if (fn === '(program)') return 'native (program)';
  if (/node_modules\/(pg|pg-protocol|pg-pool|pg-types|postgres-array|pgpass|pg-connection-string)\//.test(url)) return 'pg client';
  if (url.includes('node_modules/node-rdkafka/')) return 'node-rdkafka (JS + binding calls)';
  if (/node_modules\/(pino|sonic-boom|thread-stream|pino-std-serializers)/.test(url)) return 'logging (pino)';
  const own = /\/(?:build|dist)\/src\/(.+?)\.js$/.exec(url);
  if (own) return `relay: ${own[1]}`;
  if (url.startsWith('node:')) return 'node core';
  if (url === '') return 'builtins (JSON, Buffer, Promise...)';
  return 'other JS';
}

function frameName(frame: CallFrame): string {
  const short = frame.url.replace(/^.*\/(node_modules\/[^/]+|build\/src|dist\/src)\//, '$1/').replace(/^file:\/\//, '');
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  return short === '' ? name : `${name} ${short}:${frame.lineNumber + 1}`;
}

export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  // timeDeltas[i + 1] is the time until the next sample: that is how long sample i was on the CPU.
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    const us = profile.timeDeltas[i + 1] ?? 0;
    self.set(id, (self.get(id) ?? 0) + us / 1000);
  }
  let totalMs = 0;
  let idleMs = 0;
  const categories = new Map<string, number>();
  const frames = new Map<string, number>();
  for (const [id, ms] of self) {
    const node = byId.get(id);
    if (node === undefined) continue;
    totalMs += ms;
    const cat = category(node.callFrame);
    if (cat === 'idle') {
      idleMs += ms;
      continue;
    }
    categories.set(cat, (categories.get(cat) ?? 0) + ms);
    const name = frameName(node.callFrame);
    frames.set(name, (frames.get(name) ?? 0) + ms);
  }
  const busyMs = totalMs - idleMs;
  const inclusive = inclusiveRelayTimes(profile, byId, self);
  const ranked = (m: Map<string, number>, n: number): FrameTime[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([frame, ms]) => ({ frame, ms: Math.round(ms), pct: Math.round((ms / busyMs) * 1000) / 10 }));
  return {
    file,
    totalMs: Math.round(totalMs),
    idleMs: Math.round(idleMs),
    busyMs: Math.round(busyMs),
    categories: ranked(categories, 20),
    topSelf: ranked(frames, top),
    topInclusiveRelay: ranked(inclusive, top),
  };
}

/** Inclusive time of each relay function (recursion counted once), by walking the call tree. */
function inclusiveRelayTimes(profile: CpuProfile, byId: Map<number, ProfileNode>, self: Map<number, number>): Map<string, number> {
  const isChild = new Set<number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) isChild.add(c);
  const totals = new Map<string, number>();
  const subtree = new Map<number, number>();
  const computeSubtree = (id: number): number => {
    const cached = subtree.get(id);
    if (cached !== undefined) return cached;
    // Iterative post-order to survive deep async stacks.
    const stack: Array<[number, boolean]> = [[id, false]];
    while (stack.length > 0) {
      const [cur, visited] = stack.pop() as [number, boolean];
      const node = byId.get(cur);
      if (node === undefined) continue;
      if (visited) {
        let sum = self.get(cur) ?? 0;
        for (const c of node.children ?? []) sum += subtree.get(c) ?? 0;
        subtree.set(cur, sum);
      } else {
        stack.push([cur, true]);
        for (const c of node.children ?? []) stack.push([c, false]);
      }
    }
    return subtree.get(id) ?? 0;
  };
  const walk = (rootId: number): void => {
    const stack: Array<{ id: number; active: ReadonlySet<string> }> = [{ id: rootId, active: new Set() }];
    while (stack.length > 0) {
      const { id, active } = stack.pop() as { id: number; active: ReadonlySet<string> };
      const node = byId.get(id);
      if (node === undefined) continue;
      let next = active;
      if (/\/(?:build|dist)\/src\//.test(node.callFrame.url)) {
        const name = frameName(node.callFrame);
        if (!active.has(name)) {
          totals.set(name, (totals.get(name) ?? 0) + computeSubtree(id));
          next = new Set(active).add(name);
        }
      }
      for (const c of node.children ?? []) stack.push({ id: c, active: next });
    }
  };
  for (const n of profile.nodes) if (!isChild.has(n.id)) walk(n.id);
  return totals;
}
