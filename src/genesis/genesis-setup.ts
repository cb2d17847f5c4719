import type { Pool } from 'pg';
import type { TopicsConfig } from '../config/topics-types';
import type { KafkaPublisher } from '../kafka/publisher';
import { SerializerLoader } from '../postgres/serializer-loader';
import {
  GenesisUsageError,
  optionsForNewRun,
  parseGenesisFlags,
  parseRunId,
  parseStoredOptions,
  spreadRate,
  type GenesisFlags,
  type GenesisOptions,
  type ParsedGenesisFlags,
} from './genesis-options';
import type { GenesisRun, GenesisRunLock, GenesisRunStore } from './genesis-run-store';
import { idRelation, resolveTarget, serializerScope, type GenesisTarget } from './genesis-target';
import { IdSource } from './id-source';

/** What the command line asked for. */
export interface GenesisRequest {
  readonly topic: string | undefined;
  readonly model: string | undefined;
  readonly resume: string | undefined;
  readonly flags: GenesisFlags;
}

export interface SetupDeps {
  readonly pool: Pool;
  readonly store: GenesisRunStore;
  readonly publisher: KafkaPublisher;
  readonly topics: TopicsConfig;
}

/** Everything a session needs, checked against the live systems, with the run's lock held. */
export interface GenesisSession {
  /** The run as this session starts it (a resumed run carries its earlier progress). */
  readonly run: GenesisRun;
  readonly options: GenesisOptions;
  readonly target: GenesisTarget;
  readonly ids: IdSource;
  readonly loader: SerializerLoader;
  readonly lock: GenesisRunLock;
  readonly resumed: boolean;
}

export type OpenResult = { readonly kind: 'session'; readonly session: GenesisSession } | { readonly kind: 'already-done'; readonly run: GenesisRun };

/**
 * Opens a new run or resumes one. Everything that can be wrong (flags, topic, model, table,
 * serializer, Kafka topic) is checked before a new run's row is written, so a mistake never
 * leaves a run behind.
 */
export async function openSession(deps: SetupDeps, request: GenesisRequest): Promise<OpenResult> {
  const flags = checkRequest(deps.topics, request);
  if (request.resume !== undefined) return openResumed(deps, request, flags);
  const target = resolveTarget(deps.topics, request.topic as string, request.model as string);
  const { ids, loader } = await prepareSources(deps, target, flags);
  const total = await ids.count();
  const options = optionsForNewRun(flags, total);
  const run = await deps.store.create({ topic: target.name, model: target.model.name, options, totalEstimate: total });
  const lock = await deps.store.lock(run.id);
  if (lock === undefined) throw new GenesisUsageError(`genesis run ${run.id} was taken over by another process as it started`);
  return { kind: 'session', session: { run, options, target, ids, loader, lock, resumed: false } };
}

/**
 * What can be checked without a connection, so that a mistake is reported before any: the flags,
 * the run id of --resume, and for a new run its topic and model and where its ids are paged from.
 */
export function checkRequest(topics: TopicsConfig, request: GenesisRequest): ParsedGenesisFlags {
  const flags = parseGenesisFlags(request.flags);
  if (request.resume !== undefined) {
    parseRunId(request.resume);
    return flags;
  }
  if (request.topic === undefined || request.model === undefined) {
    const missing = [request.topic === undefined ? '--topic' : undefined, request.model === undefined ? '--model' : undefined].filter((m) => m !== undefined);
    throw new GenesisUsageError(`missing ${missing.join(' and ')} (or --resume ID to continue a run)`);
  }
  idRelation(resolveTarget(topics, request.topic, request.model).model, topics.file);
  return flags;
}

async function openResumed(deps: SetupDeps, request: GenesisRequest, flags: ParsedGenesisFlags): Promise<OpenResult> {
  const id = parseRunId(request.resume as string);
  const run = await deps.store.find(id);
  if (run === undefined) throw new GenesisUsageError(`--resume: there is no genesis run ${id}`);
  if (run.status === 'done') return { kind: 'already-done', run };
  const stored = parseStoredOptions(run.options);
  checkSameRun(deps.topics, run, stored, request, flags);
  const lock = await deps.store.lock(run.id);
  if (lock === undefined) throw new GenesisUsageError(`genesis run ${id} is being run by another process right now`);
  try {
    const options = repaced(stored, request.flags, flags, run);
    const target = resolveTarget(deps.topics, run.topic, run.model);
    const { ids, loader } = await prepareSources(deps, target, options);
    await deps.store.resume(run.id, options);
    return { kind: 'session', session: { run, options, target, ids, loader, lock, resumed: true } };
  } catch (err) {
    await lock.release();
    throw err;
  }
}

/** A resumed run keeps its target and filters; only the pace (--rate, --over, --batch-size) may change. */
function checkSameRun(topics: TopicsConfig, run: GenesisRun, stored: GenesisOptions, request: GenesisRequest, flags: ParsedGenesisFlags): void {
  const conflicts: string[] = [];
  if (request.model !== undefined && request.model !== run.model) conflicts.push(`--model ${request.model} (the run's is ${run.model})`);
  if (request.topic !== undefined && targetName(topics, request.topic, run.model) !== run.topic) {
    conflicts.push(`--topic ${request.topic} (the run's is ${run.topic})`);
  }
  if (request.flags.from !== undefined && flags.from !== stored.from) conflicts.push(`--from (the run's is ${stored.from ?? 'unset'})`);
  if (request.flags.to !== undefined && flags.to !== stored.to) conflicts.push(`--to (the run's is ${stored.to ?? 'unset'})`);
  if (flags.visibleOnly && !stored.visibleOnly) conflicts.push('--visible-only (the run sends soft-deleted records as _destroyed)');
  if (conflicts.length > 0) {
    throw new GenesisUsageError(`--resume ${run.id} continues the run as it was started; these differ: ${conflicts.join('; ')}`);
  }
}

function targetName(topics: TopicsConfig, topic: string, model: string): string | undefined {
  try {
    return resolveTarget(topics, topic, model).name;
  } catch {
    return undefined;
  }
}

/** The stored options with the pace the resuming command line asks for, if any. */
function repaced(stored: GenesisOptions, given: GenesisFlags, flags: ParsedGenesisFlags, run: GenesisRun): GenesisOptions {
  let { ratePerSecond, over, batchSize } = stored;
  if (flags.ratePerSecond !== null) {
    ratePerSecond = flags.ratePerSecond;
    over = null;
  }
  if (flags.overMs !== null) {
    if (run.totalEstimate === null) throw new GenesisUsageError('--over needs the run\'s total, which is unknown; use --rate instead');
    ratePerSecond = spreadRate(Math.max(0, run.totalEstimate - run.sent - run.skipped), flags.overMs);
    over = flags.over;
  }
  if (given.batchSize !== undefined) batchSize = flags.batchSize;
  return { ...stored, ratePerSecond, over, batchSize };
}

/** The id source, the serializer (only the target's) and the Kafka topics, all checked now. */
async function prepareSources(
  deps: SetupDeps,
  target: GenesisTarget,
  filter: { from: string | null; to: string | null; visibleOnly: boolean },
): Promise<{ ids: IdSource; loader: SerializerLoader }> {
  const relation = idRelation(target.model, deps.topics.file);
  const key = `${deps.topics.file}: ${target.model.path}.${target.model.table !== undefined ? 'table' : 'view'}`;
  const ids = await IdSource.resolve(deps.pool, relation, { ...filter, softDeleteColumn: target.model.softDeleteColumn }, key);
  const loader = new SerializerLoader(deps.pool, serializerScope(deps.topics, target));
  await loader.prepare();
  await deps.publisher.start();
  await deps.publisher.refreshPartitions(target.topicNames);
  return { ids, loader };
}
