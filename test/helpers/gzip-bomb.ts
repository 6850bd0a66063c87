import zlib from 'node:zlib';

const cache = new Map<number, Buffer>();
const PIECE = 16 * 1024 * 1024;

/**
 * One gzip member of `inflatedBytes` zero bytes (a multiple of 16 MiB): about 1 MB per GB, deflate's
 * best ratio. Built without the inflated body ever existing: one 16 MiB piece is deflated to
 * byte-aligned non-final blocks (a full flush), repeated, closed by an empty final block and the gzip
 * trailer (CRC-32 and length of the whole). Cached per size.
 */
export function gzipBomb(inflatedBytes: number): Buffer {
  const cached = cache.get(inflatedBytes);
  if (cached) return cached;
  if (inflatedBytes % PIECE !== 0 || inflatedBytes >= 2 ** 32)
    throw new Error('a multiple of 16 MiB below 4 GiB');
  const zeros = Buffer.alloc(PIECE);
  const blocks = zlib.deflateRawSync(zeros, { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH });
  const pieces = inflatedBytes / PIECE;
  let crc = 0;
  for (let i = 0; i < pieces; i++) crc = zlib.crc32(zeros, crc);
  const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff]);
  const finalBlock = Buffer.from([0x03, 0x00]); // BFINAL=1, fixed Huffman, end of block
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(inflatedBytes >>> 0, 4);
  const bomb = Buffer.concat([header, ...Array<Buffer>(pieces).fill(blocks), finalBlock, trailer]);
  cache.set(inflatedBytes, bomb);
  return bomb;
}
