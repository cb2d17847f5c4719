import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTopicsYaml } from '../../../src/config/topics-file';
import { GenesisUsageError } from '../../../src/genesis/genesis-options';
import { checkRequest, type GenesisRequest } from '../../../src/genesis/genesis-setup';
import { RelayError } from '../../../src/errors';

// Everything about a genesis request that needs no connection is checked before one is opened.

const topics = parseTopicsYaml(
  `namespace: shop
topics:
  users:
    models:
      User:
        view: v_users
      Account:
        sql: SELECT id FROM accounts WHERE id = ANY($1::bigint[])
`,
  'topics.yaml',
);

const request = (extra: Partial<GenesisRequest>): GenesisRequest => ({ topic: 'users', model: 'User', resume: undefined, flags: {}, ...extra });

test('a complete request passes and returns its parsed flags', () => {
  assert.equal(checkRequest(topics, request({ flags: { rate: '200/s' } })).ratePerSecond, 200);
  assert.equal(checkRequest(topics, request({ topic: undefined, model: undefined, resume: '7' })).batchSize, 500);
});

test('bad flags, a missing --topic or --model, an unknown topic or model, a bad run id', () => {
  assert.throws(() => checkRequest(topics, request({ flags: { rate: 'fast' } })), /--rate: "fast" is not a rate \(examples: 200\/s, 600\/m, 10000\/h\)/);
  assert.throws(() => checkRequest(topics, request({ flags: { over: 'a while' } })), /--over: "a while" is not a duration/);
  assert.throws(() => checkRequest(topics, request({ flags: { from: '2024-02-30' } })), /--from: "2024-02-30" is not an ISO 8601 timestamp/);
  assert.throws(() => checkRequest(topics, request({ model: undefined })), (err: unknown) => err instanceof GenesisUsageError && err.message === 'missing --model (or --resume ID to continue a run)');
  assert.throws(() => checkRequest(topics, request({ topic: undefined, model: undefined })), (err: unknown) => err instanceof GenesisUsageError && err.message === 'missing --topic and --model (or --resume ID to continue a run)');
  assert.throws(() => checkRequest(topics, request({ topic: 'userz' })), /topic userz is not configured in topics\.yaml \(topics: shop_users\)/);
  assert.throws(() => checkRequest(topics, request({ model: 'Usr' })), /model Usr is not configured on topic shop_users in topics\.yaml \(models: User, Account\)/);
  assert.throws(() => checkRequest(topics, request({ resume: 'last' })), /--resume: "last" is not a run id/);
});

test('a model with an sql serializer and no table cannot be paged: said before connecting', () => {
  assert.throws(() => checkRequest(topics, request({ model: 'Account' })), (err: unknown) => err instanceof RelayError && /users\.models\.Account\.table: genesis pages through the ids of Account/.test(err.message));
});
