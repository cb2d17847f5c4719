import type { KafkaPublisher } from '../kafka/publisher';
import { errorMessage } from '../errors';
import type { RecordRules } from './genesis-messages';
import type { GenesisRunStore } from './genesis-run-store';
import { GenesisRunner, type GenesisPosition } from './genesis-runner';
import type { GenesisSession } from './genesis-setup';
import { Pacer, pageSize } from './pacing';
import type { ProgressDisplay } from './progress-display';
import { ProgressMeter, type ProgressSnapshot } from './progress-format';

export interface SessionDeps {
  readonly store: GenesisRunStore;
  readonly publisher: KafkaPublisher;
  readonly display: ProgressDisplay;
  readonly now: () => number;
  /** Receives the function that stops the session after its current page (for signal handling). */
  readonly onStoppable: (stop: () => void) => void;
}

export interface SessionResult {
  readonly outcome: 'done' | 'interrupted';
  readonly position: GenesisPosition;
}

/**
 * Runs one session of a run to its end and records how it ended: done, interrupted (stopped
 * after a page), or failed (the error is stored on the run, then rethrown).
 */
export async function runGenesisSession(session: GenesisSession, deps: SessionDeps): Promise<SessionResult> {
  const { run, options, target } = session;
  const total = run.totalEstimate;
  const meter = new ProgressMeter(deps.now, run.sent + run.skipped);
  let position: GenesisPosition = { runId: run.id, lastId: run.lastId, sent: run.sent, skipped: run.skipped };
  const rules: RecordRules = {
    modelName: target.model.name,
    fromMs: options.from === null ? null : Date.parse(options.from),
    toMs: options.to === null ? null : Date.parse(options.to),
    visibleOnly: options.visibleOnly,
    softDeleteColumn: target.model.softDeleteColumn,
    windowInQuery: session.ids.prefilters.updatedAt,
    relation: session.ids.relation,
  };
  const runner = new GenesisRunner(
    { ids: session.ids, loader: session.loader, publisher: deps.publisher, store: deps.store },
    {
      target,
      rules,
      pageSize: pageSize(options.batchSize, options.ratePerSecond),
      pacer: new Pacer(options.ratePerSecond, deps.now),
      onPage: (p) => {
        position = p;
        deps.display.update(snapshot(p, total, meter));
      },
    },
    position,
  );
  deps.onStoppable(() => runner.stop());
  try {
    const outcome = await runner.run();
    deps.display.finish();
    await deps.store.finish(run.id, outcome, null);
    return { outcome, position };
  } catch (err) {
    deps.display.finish();
    // Best effort: with the database gone the run stays 'running', which --resume accepts as well.
    await deps.store.finish(run.id, 'failed', errorMessage(err)).catch(() => undefined);
    throw err;
  }
}

function snapshot(p: GenesisPosition, total: number | null, meter: ProgressMeter): ProgressSnapshot {
  const examined = p.sent + p.skipped;
  const { ratePerSecond, etaMs } = meter.sample(examined, total);
  return { runId: p.runId, examined, sent: p.sent, skipped: p.skipped, total, ratePerSecond, etaMs };
}
