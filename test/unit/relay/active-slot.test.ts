import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { ActiveSlot, type SlotSession } from '../../../src/relay/active-slot';

// The slot decisions against a fake server: which slots a standby takes, that a lost connection
// stops claiming at once, and that the slot is given back on stop.

const logger = pino({ level: 'silent' });

/** A fake server's advisory locks: slot → the session holding it. */
class FakeServer {
  readonly held = new Map<number, FakeSession>();
  opens = 0;
  refuseConnections = false;

  open(): Promise<SlotSession> {
    this.opens += 1;
    if (this.refuseConnections) return Promise.reject(new Error('connection refused'));
    return Promise.resolve(new FakeSession(this));
  }
}

class FakeSession implements SlotSession {
  private lost: ((err: Error) => void) | undefined;
  closed = false;
  pingFails = false;

  constructor(private readonly server: FakeServer) {}

  tryTake(slot: number): Promise<boolean> {
    const holder = this.server.held.get(slot);
    if (holder !== undefined && holder !== this) return Promise.resolve(false);
    this.server.held.set(slot, this);
    return Promise.resolve(true);
  }

  ping(): Promise<void> {
    return this.pingFails ? Promise.reject(new Error('no answer')) : Promise.resolve();
  }

  onLost(handler: (err: Error) => void): void {
    this.lost = handler;
  }

  /** The server ends the session: its locks go. */
  cut(): void {
    this.release();
    this.lost?.(new Error('terminated'));
  }

  close(): Promise<void> {
    this.closed = true;
    this.release();
    return Promise.resolve();
  }

  private release(): void {
    for (const [slot, holder] of this.server.held) if (holder === this) this.server.held.delete(slot);
  }
}

interface Relay {
  readonly slot: ActiveSlot;
  readonly changes: (number | undefined)[];
  polls: number;
}

function relay(server: FakeServer, slots: number): Relay {
  const changes: (number | undefined)[] = [];
  const r: Relay = {
    changes,
    polls: 0,
    slot: new ActiveSlot(() => server.open(), { slots, pollIntervalMs: 5, random: () => 0.5 }, { changed: (s) => changes.push(s), standbyPolled: () => (r.polls += 1) }, logger),
  };
  return r;
}

/** Waits (bounded) until `condition` holds, polling the event loop. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 2));
  assert.ok(condition(), `timed out waiting for: ${what}`);
}

const sessionOf = (server: FakeServer, slot: number): FakeSession => server.held.get(slot) as FakeSession;

test('no limit: active without a connection', async () => {
  const server = new FakeServer();
  const r = relay(server, 0);
  await r.slot.start();
  assert.equal(r.slot.active, true);
  assert.equal(server.opens, 0);
  await r.slot.stop();
});

test('the first relays take the free slots in order; the others stand by and keep their liveness', async () => {
  const server = new FakeServer();
  const relays = [relay(server, 2), relay(server, 2), relay(server, 2)];
  for (const r of relays) await r.slot.start();
  assert.deepEqual(relays.map((r) => r.slot.heldSlot), [0, 1, undefined]);
  assert.deepEqual(relays.map((r) => r.slot.active), [true, true, false]);
  const standby = relays[2] as Relay;
  await until(() => standby.polls >= 3, 'standby polls');
  assert.equal(standby.slot.active, false);
  for (const r of relays) await r.slot.stop();
  assert.equal(server.held.size, 0);
});

test('a holder whose session ends is replaced by a standby at its next poll', async () => {
  const server = new FakeServer();
  const [a, b] = [relay(server, 1), relay(server, 1)] as const;
  await a.slot.start();
  await b.slot.start();
  assert.equal(b.slot.active, false);
  sessionOf(server, 0).cut();
  // The holder stops claiming at once, before any poll.
  assert.equal(a.slot.active, false);
  assert.deepEqual(a.changes, [0, undefined]);
  await until(() => b.slot.active || a.slot.active, 'a relay takes the free slot');
  await a.slot.stop();
  await b.slot.stop();
});

test('an active relay whose connection stops answering gives up claiming and reconnects', async () => {
  const server = new FakeServer();
  const a = relay(server, 1);
  await a.slot.start();
  const first = sessionOf(server, 0);
  first.pingFails = true;
  await until(() => !a.slot.active || a.changes.length > 1, 'the failed ping is noticed');
  assert.equal(first.closed, true);
  // A new session takes the slot again (nobody else wants it).
  await until(() => a.slot.active, 'the slot is taken again');
  assert.notEqual(sessionOf(server, 0), first);
  await a.slot.stop();
});

test('a standby that cannot connect keeps trying and stays healthy', async () => {
  const server = new FakeServer();
  server.refuseConnections = true;
  const r = relay(server, 1);
  await r.slot.start();
  assert.equal(r.slot.active, false);
  await until(() => server.opens >= 3, 'reconnect attempts');
  assert.ok(r.polls >= 2);
  server.refuseConnections = false;
  await until(() => r.slot.active, 'connects and takes the slot');
  await r.slot.stop();
  assert.equal(r.slot.active, false);
  assert.equal(server.held.size, 0);
});

test('stop before start is safe, and stop is idempotent', async () => {
  const r = relay(new FakeServer(), 1);
  await r.slot.stop();
  await r.slot.stop();
  await r.slot.start();
  assert.equal(r.slot.active, false);
});
