import { describe, expect, it } from '@jest/globals';
import kafkajs from 'kafkajs';
import { compressFrame } from 'lz4-napi';
import { registerLz4Codec } from './lz4-codec.js';

const { CompressionCodecs, CompressionTypes } = kafkajs;

describe('registerLz4Codec', () => {
  it('gives kafkajs an LZ4 codec that round-trips a batch and writes standard LZ4 frames', async () => {
    registerLz4Codec();
    const codec = (
      CompressionCodecs[CompressionTypes.LZ4] as () => {
        compress(encoder: { buffer: Buffer }): Promise<Buffer>;
        decompress(buffer: Buffer): Promise<Buffer>;
      }
    )();
    const batch = Buffer.from(`eyJhbGciOiJFZERTQSJ9.${'eyJldmVudHMiOlt7fV19'.repeat(20_000)}.sig`);
    const compressed = await codec.compress({ buffer: batch });
    expect(compressed.length).toBeLessThan(batch.length / 4);
    // The LZ4 frame magic number (0x184D2204, little-endian): what Kafka's brokers expect.
    expect(compressed.readUInt32LE(0)).toBe(0x184d2204);
    expect((await codec.decompress(compressed)).equals(batch)).toBe(true);
    // Frames written elsewhere (e.g. by Java clients) are read too.
    const other = await compressFrame(Buffer.from('usage'));
    expect((await codec.decompress(other)).toString()).toBe('usage');
  });
});
