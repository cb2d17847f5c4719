import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MEASURED_INDEX_MICROS_PER_ROW, SCHEMA_COST_DOC, indexCostNote, skippedByMarks, type OutboxIndex } from '../../../src/domain/index-cost';

const T = 'app.dionysus_outboxes';
const index = (name: string, def: string, bytes: number, primary = false): OutboxIndex => ({ name, def: `CREATE INDEX ${name} ON ${T} USING btree ${def}`, primary, bytes });

test('indexes partial on unpublished rows are left alone by marks; the others are written', () => {
  assert.equal(skippedByMarks('CREATE INDEX p ON t USING btree (topic, created_at) WHERE (published_at IS NULL)'), true);
  assert.equal(skippedByMarks('CREATE INDEX r ON t USING btree (topic) WHERE ((published_at IS NULL) AND (retry_at IS NOT NULL))'), true);
  assert.equal(skippedByMarks('CREATE INDEX c ON t USING btree (created_at)'), false);
  assert.equal(skippedByMarks('CREATE INDEX f ON t USING btree (topic) WHERE (failed_at IS NOT NULL)'), false);
  assert.equal(skippedByMarks('CREATE INDEX o ON t USING btree (topic) WHERE ((published_at IS NULL) OR (retry_at IS NOT NULL))'), false);
});

test('check names the indexes every mark writes into, largest first, with the measured price of one', () => {
  const note = indexCostNote(T, [
    index('dionysus_outboxes_pkey', '(id)', 50 << 20, true),
    index('index_dionysus_outboxes_publishing_idx', '(topic, created_at) WHERE (published_at IS NULL)', 1 << 20),
    index('index_dionysus_outboxes_on_created_at', '(created_at)', 30 << 20),
    index('index_dionysus_outboxes_on_resource_class_and_resource_id', '(resource_class, resource_id)', 2 * 1024 ** 3),
    index('index_dionysus_outboxes_on_topic', '(topic)', 8192),
  ]);
  assert.ok(note !== undefined);
  assert.match(note, /every publish mark writes into 3 index\(es\) of app\.dionysus_outboxes besides its primary key/);
  assert.match(note, /largest first: index_dionysus_outboxes_on_resource_class_and_resource_id \(2\.0 GiB\), index_dionysus_outboxes_on_created_at \(30 MiB\), index_dionysus_outboxes_on_topic \(8 kB\)\./);
  assert.ok(!note.includes('publishing_idx') && !note.includes('pkey'), note);
  assert.ok(note.includes(`about ${MEASURED_INDEX_MICROS_PER_ROW} µs of PostgreSQL CPU per published row`), note);
  assert.ok(note.includes(`3 × ${MEASURED_INDEX_MICROS_PER_ROW} = ${Math.round(30 * MEASURED_INDEX_MICROS_PER_ROW) / 10} µs a row`), note);
  assert.ok(note.includes(SCHEMA_COST_DOC), note);
  assert.match(note, /RELAY_ON_PUBLISH=delete/);
});

test('a table with only the primary key and the publishing index gets no note', () => {
  assert.equal(indexCostNote(T, [index('pk', '(id)', 1, true), index('pub', '(topic, created_at) WHERE (published_at IS NULL)', 1)]), undefined);
});
