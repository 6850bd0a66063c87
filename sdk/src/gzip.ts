/**
 * gzip through the runtime's CompressionStream (browsers since 2023, Node 18+, Deno, Bun): no
 * compression code in the bundle. Where the runtime lacks it, bodies go uncompressed.
 */

/** Whether this runtime can gzip request bodies. */
export function canGzip(): boolean {
  return typeof CompressionStream === 'function';
}

/** The gzip of `text`'s UTF-8 bytes. */
export async function gzip(text: string): Promise<Uint8Array> {
  const compressed = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(compressed).arrayBuffer());
}
