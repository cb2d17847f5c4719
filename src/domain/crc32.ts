// Standard zlib CRC-32 (reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF).
//
// librdkafka's `consistent_random` partitioner, which the Ruby gem used through rdkafka-ruby,
// picks `crc32(key) % partition_count` with exactly this CRC. The relay must route every key to
// the same partition as the gem did, or per-key ordering breaks for consumers across the switch,
// so it computes the partition itself instead of relying on a client's default partitioner
// (the Java-compatible murmur2 would route differently). Pure: no I/O, no dependencies.

// 256-entry lookup table, computed once at module load.
const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

const utf8 = new TextEncoder();

function update(crc: number, bytes: Uint8Array): number {
  let c = crc;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return c;
}

/**
 * CRC-32 of `input`; strings are hashed over their UTF-8 bytes (what Kafka clients send as the
 * key). Lone surrogates encode as U+FFFD, as Buffer.from / TextEncoder do. Returns an unsigned
 * 32-bit integer (0 .. 0xFFFFFFFF), e.g. crc32("123456789") === 0xCBF43926.
 */
export function crc32(input: string | Uint8Array): number {
  let c = 0xffffffff;
  if (typeof input !== 'string') return (update(c, input) ^ 0xffffffff) >>> 0;
  // Keys are almost always ASCII (ids, "User:42"): hash code units directly, no allocation.
  // At the first non-ASCII unit, encode the rest; splitting there is safe because no surrogate
  // pair can straddle it (a high surrogate is itself non-ASCII and would have stopped us).
  for (let i = 0; i < input.length; i++) {
    const code = input.charCodeAt(i);
    if (code >= 0x80) {
      c = update(c, utf8.encode(input.slice(i)));
      break;
    }
    c = TABLE[(c ^ code) & 0xff]! ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}
