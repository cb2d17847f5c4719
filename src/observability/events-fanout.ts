import { safely, type RelayEvents } from '../relay/relay-events';

/**
 * One RelayEvents for the loop that forwards every report to each of `listeners` (metrics,
 * health, compatibility file), each implementing only the methods it cares about. Every call is
 * guarded on its own, so a throwing listener cannot keep the others from hearing the report.
 */
export function fanOut(...listeners: ReadonlyArray<Partial<RelayEvents>>): RelayEvents {
  const forward =
    <K extends keyof RelayEvents>(method: K) =>
    (...args: Parameters<RelayEvents[K]>): void => {
      for (const listener of listeners) {
        const fn = listener[method] as ((...a: Parameters<RelayEvents[K]>) => void) | undefined;
        if (fn !== undefined) safely(() => fn.apply(listener, args));
      }
    };
  return {
    claimFinished: forward('claimFinished'),
    batchClaimed: forward('batchClaimed'),
    phaseFinished: forward('phaseFinished'),
    rowsPublished: forward('rowsPublished'),
    rowsFailed: forward('rowsFailed'),
    rowsGivenUp: forward('rowsGivenUp'),
    rowsHeldBack: forward('rowsHeldBack'),
    batchAbandoned: forward('batchAbandoned'),
    passFinished: forward('passFinished'),
  };
}
