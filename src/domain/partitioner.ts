// Partition choice and partition-key casting, reproducing what the Ruby gem's messages got.
//
// The gem produced through rdkafka-ruby with librdkafka's `consistent_random` partitioner:
// with a partition key, partition = crc32(partition_key) % partition_count; without one,
// librdkafka hashed the message key the same way. Keeping this identical means every key stays
// on the partition it had under the gem, so per-key ordering survives the switch to the relay.
import { crc32 } from './crc32';

/**
 * Partition for a message. A non-empty `partitionKey` wins; null, undefined and '' fall back to
 * the message key (librdkafka's consistent_random also ignores an empty key). Throws RangeError
 * unless `partitionCount` is an integer >= 1 (a bad count would route silently to NaN).
 */
export function choosePartition(
  partitionKey: string | null | undefined,
  messageKey: string,
  partitionCount: number,
): number {
  if (!Number.isInteger(partitionCount) || partitionCount < 1) {
    throw new RangeError(`partitionCount must be an integer >= 1, got ${String(partitionCount)}`);
  }
  const key = typeof partitionKey === 'string' && partitionKey.length > 0 ? partitionKey : messageKey;
  return crc32(key) % partitionCount;
}

// Ruby String#to_i (base 10): skips leading whitespace (space, \t, \n, \v, \f, \r), takes an
// optional sign, then digits where single underscores may separate digit groups ("1_000" → 1000,
// "1__0" → 1), and ignores the rest. No match at all means 0. Going through BigInt keeps
// values beyond 2^53 exact.
const RUBY_TO_I = /^[ \t\n\v\f\r]*([+-]?)(\d+(?:_\d+)*)/;

/**
 * The gem's cast of a record attribute to a partition key: `value.to_i.to_s`
 * (Dionysus::Producer::PartitionKey). Case by case:
 * - null / undefined (Ruby nil): nil.to_i is 0 → "0";
 * - bigint (int8 columns): its digits;
 * - finite number: truncated toward zero like Float#to_i (4.9 → "4", -4.9 → "-4", -0.5 → "0"),
 *   printed with all digits (1e21 → "1000000000000000000000", as Ruby's Integer prints it);
 * - string: Ruby String#to_i: "42" → "42", "12abc" → "12", "abc" → "0", " 7" → "7",
 *   "-3" → "-3", "+5" → "5", "007" → "7", "1_000" → "1000", "" → "0"; digits beyond 2^53 kept;
 * - Date (a Ruby Time): Time#to_i, whole seconds since the epoch, floored;
 * - booleans, NaN/±Infinity, invalid Dates, arrays and other objects: in Ruby `to_i` raises
 *   (NoMethodError / FloatDomainError), failing the row forever. We return "0" instead: the key
 *   only routes the message, and a stable partition beats a row that can never be published.
 */
export function partitionKeyFromAttribute(value: unknown): string {
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      return Number.isFinite(value) ? BigInt(Math.trunc(value)).toString() : '0';
    case 'string': {
      const m = RUBY_TO_I.exec(value);
      if (m === null) return '0';
      // BigInt strips leading zeros and turns "-0" into "0", as Ruby's Integer#to_s does.
      const n = BigInt(m[2]!.replace(/_/g, ''));
      return (m[1] === '-' ? -n : n).toString();
    }
    case 'object':
      if (value instanceof Date) {
        const ms = value.getTime();
        return Number.isNaN(ms) ? '0' : BigInt(Math.floor(ms / 1000)).toString();
      }
      return '0'; // null (Ruby nil → 0) and every other object
    default:
      return '0'; // undefined (treated as nil), booleans, symbols, functions
  }
}
