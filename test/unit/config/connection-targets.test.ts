import assert from 'node:assert/strict';
import { test } from 'node:test';
import { brokerListProblem, databaseUrlProblem, sslModeOf } from '../../../src/config/connection-targets';

test('PostgreSQL URLs that node-postgres can use pass', () => {
  for (const url of [
    'postgres://dionysus:dionysus@127.0.0.1:5432/dionysus_relay',
    'postgresql://u:p%40ss@db.internal/app?sslmode=verify-full',
    'postgres://db/app',
    'postgres:///app?host=/var/run/postgresql',
    'postgres://u@[::1]:5432/app',
  ]) {
    assert.equal(databaseUrlProblem(url), undefined, url);
  }
});

test('anything else is refused before connecting, naming the part that is wrong and never the URL', () => {
  const cases: Array<[string, RegExp]> = [
    ['nonsense', /^not a URL \(expected postgres:\/\/USER:PASSWORD@HOST:PORT\/DATABASE\)$/],
    ['mysql://u:secret@h/db', /^the scheme is "mysql:", not postgres: or postgresql:/],
    ['http://h/db', /the scheme is "http:"/],
    ['postgres:h/db', /postgres: must be followed by \/\//],
    ['postgres://u:secret@h:99999/db', /not a valid URL: check the port/],
    ['postgres://u:pa#secret@h/db', /not a valid URL|"#" ends the URL early/],
    ['postgres://u:p@h/db?application_name=a#b', /"#" ends the URL early/],
    ['postgres:///app', /^no host/],
    ['postgres://u:secret@h:0/db', /^port 0/],
    ['postgres://u:50%off@h/db', /a "%" in the password starts no percent-escape: write a literal % as %25/],
    ['postgres://u@h/db?sslmode=strict', /^sslmode=strict is not one of disable, allow, prefer, require, verify-ca, verify-full, no-verify$/],
  ];
  for (const [url, expected] of cases) {
    const problem = databaseUrlProblem(url) ?? '(accepted)';
    assert.match(problem, expected, url);
    assert.ok(!problem.includes('secret'), `${url}: the message repeats the password`);
  }
});

test('sslmode is read from a URL that parses', () => {
  assert.equal(sslModeOf('postgres://h/db?sslmode=disable'), 'disable');
  assert.equal(sslModeOf('postgres://h/db'), undefined);
  assert.equal(sslModeOf('nonsense'), undefined);
});

test('broker lists: HOST[:PORT] entries, optionally with a protocol, separated by commas', () => {
  for (const ok of ['127.0.0.1:9092', 'kafka-0.kafka.svc:9092, kafka-1.kafka.svc:9092', 'kafka', 'SSL://broker:9093', '[::1]:9092']) {
    assert.equal(brokerListProblem(ok), undefined, ok);
  }
  assert.match(brokerListProblem('a:9092,,b:9092') ?? '', /empty entry \(a stray comma\?\)/);
  assert.match(brokerListProblem('a:9092,') ?? '', /empty entry/);
  assert.match(brokerListProblem('http://a:9092') ?? '', /"http:\/\/a:9092", which is not HOST:PORT/);
  assert.match(brokerListProblem('a:b') ?? '', /"a:b", which is not HOST:PORT/);
  assert.match(brokerListProblem('a:70000') ?? '', /port is out of range \(1 to 65535\)/);
  assert.match(brokerListProblem('a:0') ?? '', /port is out of range/);
});
