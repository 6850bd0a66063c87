/**
 * Compressed request bodies: `Content-Encoding: gzip` or `deflate` (the zlib format of RFC 9110, as
 * CompressionStream('deflate') writes it), or `identity`. The body limit applies to the decompressed
 * bytes as they stream: inflation stops and the request gets 413 as soon as the output passes the
 * limit, so a small body that would inflate to gigabytes costs at most the limit plus one zlib chunk
 * (16 KiB) of work and memory. Anything else is 415, decided from the header before the body is read.
 */
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import zlib from 'node:zlib';
import { GatewayHttpError } from './http-errors.ts';

export type BodyEncoding = 'gzip' | 'deflate' | 'identity';

const SUPPORTED = 'gzip, deflate or identity';

/**
 * The encoding of a `Content-Encoding` header (case and blanks ignored; `x-gzip` is gzip, as RFC 9110
 * says); throws 415 `unsupported_encoding` naming it for anything else, stacked encodings included.
 */
export function bodyEncoding(header: string | string[] | undefined): BodyEncoding {
  if (header === undefined) return 'identity';
  const value = (Array.isArray(header) ? header.join(',') : header).trim().toLowerCase();
  switch (value) {
    case '':
    case 'identity':
      return 'identity';
    case 'gzip':
    case 'x-gzip':
      return 'gzip';
    case 'deflate':
      return 'deflate';
    default: {
      const shown = JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
      throw new GatewayHttpError(
        'unsupported_encoding',
        value.includes(',')
          ? `Content-Encoding ${shown} stacks several encodings; send one of ${SUPPORTED}`
          : `Content-Encoding ${shown} is not supported; use ${SUPPORTED}`,
      );
    }
  }
}

/** A decompressed body stream, with what fastify reads to check the declared Content-Length. */
export type DecodedBody = Readable & { receivedEncodedLength: number };

/**
 * The decompressed stream of `raw` (`encoding` gzip or deflate). It fails with 413 `body_too_large`
 * once more than `maxBytes` came out, and with 400 `invalid_encoding` when the bytes do not
 * decompress. On either failure inflation stops and the rest of `raw` is read and discarded
 * unprocessed, so the client gets its answer instead of a reset connection.
 */
export function decodeBody(raw: Readable, encoding: 'gzip' | 'deflate', maxBytes: number): DecodedBody {
  const inflate = encoding === 'gzip' ? zlib.createGunzip() : zlib.createInflate();
  let out = 0;
  const limited = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      out += chunk.length;
      if (out > maxBytes) {
        callback(
          new GatewayHttpError(
            'body_too_large',
            `the request body inflates to more than the limit of ${maxBytes} bytes (Content-Encoding: ${encoding}); ` +
              'the limit applies to the decompressed body',
          ),
        );
        return;
      }
      callback(null, chunk);
    },
  }) as Transform & DecodedBody;
  limited.receivedEncodedLength = 0;

  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    raw.unpipe(inflate);
    inflate.destroy();
    // Drain what the client still sends, undecoded (REQUEST_TIMEOUT_MS bounds how long).
    raw.resume();
  };
  raw.on('data', (chunk: Buffer) => {
    if (!stopped) limited.receivedEncodedLength += chunk.length;
  });
  inflate.on('error', (err: Error & { code?: string }) => {
    stop();
    limited.destroy(
      new GatewayHttpError(
        'invalid_encoding',
        `the request body is not valid ${encoding} data (Content-Encoding: ${encoding}): ${err.message}`,
        { cause: err },
      ),
    );
  });
  limited.on('error', stop);
  raw.pipe(inflate).pipe(limited);
  return limited;
}
