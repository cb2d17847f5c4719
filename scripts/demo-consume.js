#!/usr/bin/env node
// Prints the messages of a topic as they arrive (from the beginning), for `npm run demo`.
// Usage: node scripts/demo-consume.js TOPIC SECONDS
'use strict';
const { AdminClient, KafkaConsumer } = require('node-rdkafka');

const [topic = 'dionysus_demo_users', seconds = '15'] = process.argv.slice(2);
const brokers = process.env.KAFKA_BROKERS || '127.0.0.1:9092';
const consumer = new KafkaConsumer(
  {
    'metadata.broker.list': brokers,
    'group.id': `dionysus-demo-${Date.now()}`,
    'enable.auto.commit': false,
    'topic.metadata.refresh.interval.ms': 1000,
  },
  { 'auto.offset.reset': 'earliest' },
);
// Create the topic (3 partitions) first, so the subscription sees it at once; an existing topic is fine.
const admin = AdminClient.create({ 'metadata.broker.list': brokers });
admin.createTopic({ topic, num_partitions: 3, replication_factor: 1 }, 10000, () => {
  admin.disconnect();
  start();
});
const start = () => consumer.connect({ timeout: 15000 }, (err) => {
  if (err) {
    console.error(`demo consumer: cannot connect to ${brokers}: ${err.message}`);
    process.exit(1);
  }
  consumer.subscribe([topic]);
  consumer.consume();
  console.log(`[kafka] reading ${topic} for ${seconds}s ...`);
  setTimeout(() => consumer.disconnect(() => process.exit(0)), Number(seconds) * 1000);
});

consumer.on('data', (m) => {
  console.log(`[kafka] ${m.topic} partition=${m.partition} offset=${m.offset} key=${m.key}`);
  console.log(`        ${m.value.toString('utf8')}`);
});
