import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { CompatHealthFile, compatHealthFileName } from '../../../src/observability/compat-health-file';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dionysus-relay-compat-'));
  dirs.push(dir);
  return dir;
}

/** A logger whose lines are kept, to count warnings. */
function capturingLogger(): { logger: pino.Logger; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

const LONG_AGO = new Date('2001-01-01T00:00:00Z');

describe('CompatHealthFile', () => {
  test('the file name is the one the Ruby worker touches', () => {
    assert.equal(compatHealthFileName('web-7d9f'), '__dionysus_outbox_worker__running__web-7d9f');
  });

  test('created on the first pass, its mtime refreshed on every later pass, removed on stop', async () => {
    const dir = tempDir();
    const file = new CompatHealthFile({ dir, hostname: 'relay-host' }, pino({ level: 'silent' }));
    assert.equal(file.path, join(dir, '__dionysus_outbox_worker__running__relay-host'));
    assert.equal(existsSync(file.path), false, 'no file before the first pass');

    file.passFinished();
    await file.settled();
    assert.equal(existsSync(file.path), true);

    utimesSync(file.path, LONG_AGO, LONG_AGO);
    file.passFinished();
    await file.settled();
    assert.ok(statSync(file.path).mtimeMs > LONG_AGO.getTime(), 'the pass refreshed the mtime');

    await file.stop();
    assert.equal(existsSync(file.path), false);
    file.passFinished();
    await file.settled();
    assert.equal(existsSync(file.path), false, 'no pass recreates it after stop');
    await file.stop();
  });

  test('passes that finish during a touch are covered by one more touch', async () => {
    const dir = tempDir();
    const file = new CompatHealthFile({ dir, hostname: 'h' }, pino({ level: 'silent' }));
    file.passFinished();
    await file.settled();
    utimesSync(file.path, LONG_AGO, LONG_AGO);
    for (let i = 0; i < 50; i++) file.passFinished();
    await file.settled();
    assert.ok(statSync(file.path).mtimeMs > LONG_AGO.getTime());
    await file.stop();
  });

  test('stop before any pass is safe, and a stop during a touch still leaves no file', async () => {
    const dir = tempDir();
    const idle = new CompatHealthFile({ dir, hostname: 'idle' }, pino({ level: 'silent' }));
    await Promise.all([idle.stop(), idle.stop()]);
    const busy = new CompatHealthFile({ dir, hostname: 'busy' }, pino({ level: 'silent' }));
    busy.passFinished();
    await busy.stop();
    assert.equal(existsSync(busy.path), false);
  });

  test('an unwritable directory is logged once and never throws into the loop', async () => {
    const { logger, lines } = capturingLogger();
    const file = new CompatHealthFile({ dir: join(tempDir(), 'missing', 'dir'), hostname: 'h' }, logger);
    for (let i = 0; i < 3; i++) {
      file.passFinished();
      await file.settled();
    }
    assert.equal(lines.filter((l) => l.msg === 'cannot touch the compatibility health file').length, 1);
    await file.stop();
  });
});
