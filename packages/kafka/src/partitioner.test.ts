import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { KeyPartitioner, murmur2 } from './partitioner';

const partitions = (count: number): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));

/** Strings of every UTF-8 length class: ASCII, 2-, 3- and 4-byte characters, lengths 0–40. */
function randomKey(): string {
  const alphabet = ['a', 'Z', '7', '-', 'é', 'ß', '€', '日', '✓', '😀'];
  return Array.from({ length: randomInt(41) }, () => alphabet[randomInt(alphabet.length)]).join('');
}

test("murmur2 gives the Java client's values (Kafka's own UtilsTest cases)", () => {
  const cases: Array<[string, number]> = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [key, hash] of cases) {
    assert.equal(murmur2(key), hash, key);
    assert.equal(murmur2(Buffer.from(key)), hash, `${key} as a Buffer`);
  }
});

test("KeyPartitioner puts every key on the partition kafkajs' DefaultPartitioner does", () => {
  const ours = KeyPartitioner();
  const theirs = Partitioners.DefaultPartitioner();
  const keys: Array<string | Buffer> = [
    '',
    ...Array.from({ length: 1_000 }, () => randomUUID()),
    ...Array.from({ length: 2_000 }, randomKey),
    ...Array.from({ length: 500 }, () => randomBytes(randomInt(64))),
    'x'.repeat(1_000), // longer than the scratch buffer
  ];
  for (const count of [1, 3, 6, 24, 100]) {
    const partitionMetadata = partitions(count);
    for (const key of keys) {
      const args = { topic: 't', partitionMetadata, message: { key, value: 'v' } };
      assert.equal(ours(args), theirs(args), `key ${JSON.stringify(key.toString())} over ${count} partitions`);
    }
  }
});

test('KeyPartitioner keeps an explicit partition, and spreads records without a key over the partitions', () => {
  const partitioner = KeyPartitioner();
  const partitionMetadata = partitions(6);
  assert.equal(partitioner({ topic: 't', partitionMetadata, message: { key: 'room', value: 'v', partition: 4 } }), 4);
  const chosen = new Set(Array.from({ length: 60 }, () => partitioner({ topic: 't', partitionMetadata, message: { value: 'v' } })));
  assert.equal(chosen.size, 6);
});
