import { safely, type RelayObserver } from '../relay/relay-observer';

/**
 * One RelayObserver for the loop that forwards every report to each of `observers` (metrics,
 * health, compatibility file), each implementing only the methods it cares about. Every call is
 * guarded on its own, so a throwing observer cannot keep the others from hearing the report.
 */
export function fanOut(...observers: ReadonlyArray<Partial<RelayObserver>>): RelayObserver {
  const forward =
    <K extends keyof RelayObserver>(method: K) =>
    (...args: Parameters<RelayObserver[K]>): void => {
      for (const observer of observers) {
        const fn = observer[method] as ((...a: Parameters<RelayObserver[K]>) => void) | undefined;
        if (fn !== undefined) safely(() => fn.apply(observer, args));
      }
    };
  return {
    claimFinished: forward('claimFinished'),
    batchClaimed: forward('batchClaimed'),
    phaseFinished: forward('phaseFinished'),
    rowsPublished: forward('rowsPublished'),
    rowsFailed: forward('rowsFailed'),
    rowsGivenUp: forward('rowsGivenUp'),
    rowsHeld: forward('rowsHeld'),
    batchAbandoned: forward('batchAbandoned'),
    passFinished: forward('passFinished'),
  };
}
