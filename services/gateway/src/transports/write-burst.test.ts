import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteBurst } from './write-burst';

/** Records each write as the text it carried; `writableLength` is what the client has not read yet. */
function recorder() {
  const writes: string[] = [];
  const chunks: Buffer[] = [];
  const stream = {
    writableLength: 0,
    write: (chunk: Buffer) => {
      writes.push(chunk.toString());
      chunks.push(chunk);
      return true;
    },
  };
  const gate = { open: true };
  return { writes, chunks, stream, gate };
}

const frame = (text: string) => Buffer.from(text);

test('frames written in one task leave in one write, in order, once that task is done', async () => {
  const { writes, stream, gate } = recorder();
  const burst = new WriteBurst(stream, gate);
  for (const text of ['a', 'b', 'c']) burst.write(frame(text));
  assert.deepEqual(writes, [], 'held until the task is done');
  await Promise.resolve();
  assert.deepEqual(writes, ['abc']);
  burst.write(frame('d'));
  await Promise.resolve();
  assert.deepEqual(writes, ['abc', 'd'], 'the next task is a burst of its own');
});

test('bursts of many streams begun in one task each leave in one write when the task is done', async () => {
  const streams = [recorder(), recorder(), recorder()];
  const bursts = streams.map(({ stream, gate }) => new WriteBurst(stream, gate));
  for (const text of ['1', '2']) for (const burst of bursts) burst.write(frame(text));
  assert.deepEqual(streams.map(({ writes }) => writes), [[], [], []], 'held until the task is done');
  await Promise.resolve();
  assert.deepEqual(streams.map(({ writes }) => writes), [['12'], ['12'], ['12']]);
  bursts[1]!.write(frame('3'));
  await Promise.resolve();
  assert.deepEqual(streams.map(({ writes }) => writes), [['12'], ['12', '3'], ['12']], 'a later task flushes only the bursts it began');
});

test('a single frame is written as it is, without a copy', async () => {
  const { chunks, stream, gate } = recorder();
  const burst = new WriteBurst(stream, gate);
  const only = frame('only');
  burst.write(only);
  await Promise.resolve();
  assert.equal(chunks[0], only);
});

test('a burst is let go each time it reaches 64 KiB, and the rest when the task is done', async () => {
  const { writes, stream, gate } = recorder();
  const burst = new WriteBurst(stream, gate);
  burst.write(Buffer.alloc(40_000, 'x'));
  assert.equal(writes.length, 0);
  burst.write(Buffer.alloc(40_000, 'y'));
  assert.equal(writes.length, 1, 'written as soon as it reached 64 KiB');
  assert.equal(writes[0]!.length, 80_000);
  burst.write(frame('z'));
  await Promise.resolve();
  assert.deepEqual(writes.slice(1), ['z']);
});

test('the backlog is what the stream holds for the client, not the burst held back', () => {
  const { stream, gate } = recorder();
  const burst = new WriteBurst(stream, gate);
  burst.write(Buffer.alloc(1_000));
  assert.equal(burst.backlog, 0);
  stream.writableLength = 50;
  assert.equal(burst.backlog, 50);
});

test('flush writes what is held at once, so that a close or an end written next comes after it', async () => {
  const { writes, stream, gate } = recorder();
  const burst = new WriteBurst(stream, gate);
  burst.write(frame('error frame'));
  burst.flush();
  stream.write(frame('close frame'));
  gate.open = false;
  await Promise.resolve();
  assert.deepEqual(writes, ['error frame', 'close frame'], 'nothing is written twice or after the close');
});

test('frames still held when the stream closes are dropped, never written after the close', async () => {
  const { writes, stream, gate } = recorder();
  const burst = new WriteBurst(stream, gate);
  burst.write(frame('late'));
  gate.open = false;
  await Promise.resolve();
  assert.deepEqual(writes, []);
  gate.open = true;
  burst.write(frame('next'));
  await Promise.resolve();
  assert.deepEqual(writes, ['next'], 'the dropped frames are gone for good');
});

test('bursts that hold the same frames share one joined buffer; different frames get their own', async () => {
  const shared = [frame('1'), frame('2')];
  const streams = [recorder(), recorder(), recorder()];
  const bursts = streams.map(({ stream, gate }) => new WriteBurst(stream, gate));
  for (const part of shared) for (const burst of bursts.slice(0, 2)) burst.write(part);
  bursts[2]!.write(shared[0]!);
  bursts[2]!.write(frame('2'));
  await Promise.resolve();
  const [first, second, third] = streams.map(({ chunks }) => chunks[0]!);
  assert.equal(second, first, 'the same frames: the same buffer');
  assert.notEqual(third, first, 'equal bytes in another frame are not taken for the same frame');
  assert.deepEqual(streams.map(({ writes }) => writes), [['12'], ['12'], ['12']]);
});
