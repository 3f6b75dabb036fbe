import { Errno, WasiError } from './errno.js';
import { MAX_NAME_BYTES, MAX_PATH_BYTES, MAX_SYMLINK_HOPS } from './limits.js';
import { Directory, type Inode, Symlink } from './memfs.js';

/** Where a path led: the directory holding the last component, its name, and what is there. */
export interface Resolved {
  /** The directory the last component is looked up in. */
  parent: Directory;
  /** The last component; undefined when the path names `parent` itself (`.`, `a/..`). */
  name: string | undefined;
  /** What the path names, if it exists. */
  node: Inode | undefined;
  /** The path ended in `/`: it must name a directory. */
  trailingSlash: boolean;
}

/**
 * Resolves `path` relative to `base`, the directory of a descriptor. The base is the
 * boundary: `..` above it, an absolute path, or a symbolic link to an absolute path or out
 * of it is `ENOTCAPABLE` (cap-std's rule), so no path reaches anything the descriptor does
 * not already grant. Symbolic links are followed for intermediate components always and
 * for the last one when `follow` is set (or the path ends in `/`); more than
 * {@link MAX_SYMLINK_HOPS} is `ELOOP`.
 */
export function resolvePath(base: Directory, path: string, follow: boolean): Resolved {
  if (path.length === 0) throw new WasiError(Errno.NOENT);
  if (path.includes('\0')) throw new WasiError(Errno.INVAL);
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw new WasiError(Errno.NAMETOOLONG);
  // Components still to walk, last first, so a link's target is pushed in front cheaply.
  const pending: string[] = [];
  let trailingSlash = pushComponents(pending, path);
  const stack: Directory[] = [base];
  let hops = 0;
  for (;;) {
    const parent = stack[stack.length - 1] as Directory;
    const component = pending.pop();
    if (component === undefined) return { parent, name: undefined, node: parent, trailingSlash };
    const last = pending.length === 0;
    if (component === '..') {
      if (stack.length === 1) throw new WasiError(Errno.NOTCAPABLE);
      stack.pop();
      continue;
    }
    if (Buffer.byteLength(component) > MAX_NAME_BYTES) throw new WasiError(Errno.NAMETOOLONG);
    if (parent.nlink === 0) throw new WasiError(Errno.NOENT);
    const node = parent.entries.get(component);
    if (node instanceof Symlink && (!last || follow || trailingSlash)) {
      if (++hops > MAX_SYMLINK_HOPS) throw new WasiError(Errno.LOOP);
      // A link that ends the path decides whether it now ends in a slash; a slash after the
      // link's name still asks for a directory.
      const targetSlash = pushComponents(pending, node.target);
      if (last) trailingSlash ||= targetSlash;
      continue;
    }
    if (last) return { parent, name: component, node, trailingSlash };
    if (node === undefined) throw new WasiError(Errno.NOENT);
    if (!(node instanceof Directory)) throw new WasiError(Errno.NOTDIR);
    stack.push(node);
  }
}

/**
 * Pushes a path's components (last first), without empty ones and `.`, and says whether it
 * ends in a slash (or `.`), which asks for a directory. An absolute path, given directly or
 * as a link's target, would start outside the descriptor: `ENOTCAPABLE`.
 */
function pushComponents(pending: string[], path: string): boolean {
  if (path.startsWith('/')) throw new WasiError(Errno.NOTCAPABLE);
  if (path.length === 0) throw new WasiError(Errno.NOENT);
  const parts = path.split('/');
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i] as string;
    if (part !== '' && part !== '.') pending.push(part);
  }
  const lastPart = parts[parts.length - 1];
  return parts.length > 1 && (lastPart === '' || lastPart === '.');
}
