import type { LibrdKafkaError, Producer } from 'node-rdkafka';
import { RelayError } from '../errors';

/**
 * The first connection (a metadata request). librdkafka keeps retrying a broker that refuses the
 * credentials or the TLS handshake, so waiting for the connect timeout would end such a start
 * with a bare "broker transport failure". An authentication or TLS error ends it at once with the
 * broker's reason, which librdkafka gives only in its log (the error event says "authentication
 * failure"), as KAFKA_REJECTED: waiting cannot fix it. Other failures wait for the timeout and
 * are KAFKA_UNAVAILABLE (retriable) with the last reason seen; both keep that reason in their
 * context (`reason`).
 */
export function connectProducer(producer: Producer, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let lastFailure = '';
    let settled = false;
    const onLog = (log: { fac?: string; message?: string }): void => {
      if (log.fac === 'FAIL' && typeof log.message === 'string') lastFailure = log.message.replace(/^\[thrd:[^\]]*\]: /, '');
    };
    const onError = (err: LibrdKafkaError): void => {
      if (!/authentication failure|ssl error/i.test(err.message)) return;
      const reason = lastFailure || err.message;
      finish(new RelayError('KAFKA_REJECTED', `cannot connect to Kafka: ${reason}`, { cause: err, context: { reason } }));
    };
    // Error events are only served by poll(), which node-rdkafka allows once the native client
    // exists (before the metadata answer); until then it throws, which is ignored.
    const poller = setInterval(() => {
      try {
        producer.poll();
      } catch {
        // not connected yet
      }
    }, 100);
    const finish = (err: RelayError | undefined): void => {
      if (settled) return;
      settled = true;
      clearInterval(poller);
      producer.removeListener('event.log', onLog);
      producer.removeListener('event.error', onError);
      if (err === undefined) {
        resolve();
      } else {
        reject(err);
      }
    };
    producer.on('event.log', onLog);
    producer.on('event.error', onError);
    producer.connect({ timeout: timeoutMs }, (err) => {
      if (!err) return finish(undefined);
      const reason = lastFailure === '' ? '' : ` (last broker error: ${lastFailure})`;
      finish(
        new RelayError('KAFKA_UNAVAILABLE', `cannot connect to Kafka: ${err.message}${reason}`, {
          cause: err,
          retriable: true,
          context: { reason: lastFailure || err.message },
        }),
      );
    });
  });
}
