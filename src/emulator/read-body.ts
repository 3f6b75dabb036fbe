import type { IncomingMessage } from 'node:http';

/** A request body up to `limit` bytes, or the size it had when it was larger. */
export interface Body {
  bytes: Buffer | undefined;
  size: number;
}

/** Reads a request body, keeping at most `limit` bytes: an oversized body is drained, not stored. */
export function readBody(req: IncomingMessage, limit: number): Promise<Body> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve({ bytes: size > limit ? undefined : Buffer.concat(chunks), size }));
    req.on('error', reject);
  });
}
