import { createHash, createHmac, type Hmac, type Hash as NodeHash } from 'node:crypto';

/** What `@smithy/types` calls `SourceData`: what the signer hashes. */
type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(data: SourceData): Uint8Array | string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * SHA-256 (and, given a secret, HMAC-SHA256) over Node's `crypto`, in the shape
 * `@smithy/signature-v4` takes as its `sha256` constructor: OpenSSL's hashing, without a
 * JavaScript SHA-256 in the Lambda bundle.
 *
 * ```ts
 * const hash = new NodeSha256();
 * hash.update('abc');
 * await hash.digest(); // ba7816bf…
 * ```
 */
export class NodeSha256 {
  readonly #hash: NodeHash | Hmac;

  constructor(secret?: SourceData) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }

  update(data: SourceData, encoding?: 'utf8' | 'ascii' | 'latin1'): void {
    const chunk = bytes(data);
    if (typeof chunk === 'string') this.#hash.update(chunk, encoding ?? 'utf8');
    else this.#hash.update(chunk);
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
}
