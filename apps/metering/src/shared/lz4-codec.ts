// LZ4 for kafkajs, which ships only gzip: Kafka's LZ4 is the standard LZ4 frame format, which
// lz4-napi (Rust, prebuilt per platform on npm) writes and reads. A batch's JWS (base64url of
// JSON) shrinks ≈ 6× at a quarter of gzip's CPU to compress and half to decompress, and the
// broker validates LZ4 batches cheaper too (bench/RESULTS.md, docs/decisions.md).
import kafkajs from 'kafkajs';
import { compressFrame, decompressFrame } from 'lz4-napi';

const { CompressionCodecs, CompressionTypes } = kafkajs;

/**
 * Registers the LZ4 codec with kafkajs (a process-wide registry): every process that produces
 * or consumes the usage topic calls it before its first send or fetch. Idempotent.
 */
export function registerLz4Codec(): void {
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: async (encoder: { buffer: Buffer }) => compressFrame(encoder.buffer),
    decompress: async (buffer: Buffer) => decompressFrame(buffer),
  });
}
