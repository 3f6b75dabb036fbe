import type { Directory, Inode } from './memfs.js';
import type { GuestMemory } from './memory.js';

const DIRENT_BYTES = 24;
const encoder = new TextEncoder();

/**
 * `fd_readdir`: the entries of `dir` from `cookie` on — `.`, `..`, then the names in creation
 * order; an entry's cookie (`d_next`) is the next one's index. The buffer is filled
 * completely, the last entry cut short if it does not fit, which is how the guest knows to
 * call again. Returns the bytes used. One call costs at most the directory's size, which
 * the filesystem's `maxFiles` bounds.
 */
export function readdir(mem: GuestMemory, dir: Directory, buf: number, len: number, cookie: bigint): number {
  mem.check(buf, len);
  const count = dir.entries.size + 2;
  const start = cookie > BigInt(count) ? count : Number(cookie);
  const header = new Uint8Array(DIRENT_BYTES);
  const view = new DataView(header.buffer);
  let used = 0;
  let index = 0;
  /** Writes one entry (or skips it before the cookie); false once the buffer is full. */
  const put = (name: string, node: Inode): boolean => {
    if (index++ < start) return true;
    const encoded = encoder.encode(name);
    view.setBigUint64(0, BigInt(index), true);
    view.setBigUint64(8, node.ino, true);
    view.setUint32(16, encoded.length, true);
    view.setUint8(20, node.type);
    const bytes = mem.bytes;
    const head = Math.min(DIRENT_BYTES, len - used);
    bytes.set(header.subarray(0, head), buf + used);
    used += head;
    const tail = Math.min(encoded.length, len - used);
    bytes.set(encoded.subarray(0, tail), buf + used);
    used += tail;
    return used < len;
  };
  if (!put('.', dir) || !put('..', dir.parent ?? dir)) return used;
  for (const [name, node] of dir.entries) if (!put(name, node)) return used;
  return used;
}
