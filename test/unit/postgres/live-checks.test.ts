import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findRetryWaitIndex, strictRetryIndexNote } from '../../../src/postgres/live-checks';

// Definitions as pg_get_indexdef prints them (PostgreSQL 15), for the indexes of sql/001 and
// sql/optional/strict_retry_index.sql.
const PUBLISHING = {
  name: 'index_dionysus_outboxes_publishing_idx',
  def: 'CREATE INDEX index_dionysus_outboxes_publishing_idx ON app.dionysus_outboxes USING btree (topic, created_at) WHERE (published_at IS NULL)',
};
const TOPIC = { name: 'index_dionysus_outboxes_on_topic', def: 'CREATE INDEX index_dionysus_outboxes_on_topic ON app.dionysus_outboxes USING btree (topic)' };
const RETRY_WAIT = {
  name: 'dionysus_relay_retry_waiting_idx',
  def: "CREATE INDEX dionysus_relay_retry_waiting_idx ON app.dionysus_outboxes USING btree (topic, retry_at) WHERE ((published_at IS NULL) AND (retry_at IS NOT NULL) AND (retry_at <> 'infinity'::timestamp without time zone))",
};

test('findRetryWaitIndex finds the optional index whatever its name, and not the gem\'s indexes', () => {
  assert.equal(findRetryWaitIndex([PUBLISHING, TOPIC]), undefined);
  assert.equal(findRetryWaitIndex([PUBLISHING, RETRY_WAIT, TOPIC])?.name, 'dionysus_relay_retry_waiting_idx');
  const handMade = { name: 'outbox_retrying', def: RETRY_WAIT.def.replace('dionysus_relay_retry_waiting_idx', 'outbox_retrying') };
  assert.equal(findRetryWaitIndex([handMade])?.name, 'outbox_retrying');
  // An index on retry_at that is not led by topic or not partial on pending rows does not serve the claim.
  const notPartial = { name: 'r', def: 'CREATE INDEX r ON app.dionysus_outboxes USING btree (topic, retry_at)' };
  const notByTopic = { name: 'r2', def: RETRY_WAIT.def.replace('(topic, retry_at)', '(retry_at)') };
  assert.equal(findRetryWaitIndex([notPartial, notByTopic]), undefined);
});

test('strictRetryIndexNote names the strict topics and the command that adds the index', () => {
  assert.match(strictRetryIndexNote(['app_orders', 'app_items'], undefined), /^strict topic\(s\) app_orders, app_items: .*whole backlog.*migrate --with strict_retry_index/);
  assert.equal(strictRetryIndexNote(['app_orders'], RETRY_WAIT), 'strict topic(s) app_orders: held keys found through dionysus_relay_retry_waiting_idx');
});
