import type { Pool } from 'pg';
import { CAPABILITIES } from './catalog-sql';
import { prepared } from './statement';

/** What the database offers the relay; see CAPABILITIES in catalog-sql.ts. */
export interface Capabilities {
  readonly changesetColumn: boolean;
  readonly crashTracking: boolean;
  readonly frozenRelayGuard: boolean;
  readonly relayXids: boolean;
  readonly lockSlots: number;
}

/** `table` is the quoted outbox table (identifiers.ts). */
export async function probeCapabilities(pool: Pick<Pool, 'query'>, table: string): Promise<Capabilities> {
  const result = await pool.query<{ changeset: boolean; crash_tracking: boolean; frozen_relay_guard: boolean; relay_xids: boolean; lock_slots: number }>(
    prepared(CAPABILITIES, [table]),
  );
  const row = result.rows[0];
  return {
    changesetColumn: row?.changeset === true,
    crashTracking: row?.crash_tracking === true,
    frozenRelayGuard: row?.frozen_relay_guard === true,
    relayXids: row?.relay_xids === true,
    lockSlots: Number(row?.lock_slots ?? 0),
  };
}
