/**
 * wasi-lambda's WASI preview1 layer: the guest's imports, an in-memory filesystem with a
 * quota, and the two errors that unwind a guest (exit, deadline).
 */
export { Errno, WasiError } from './errno.js';
export * as limits from './limits.js';
export { Directory, type FilesystemLimits, MemoryFilesystem } from './memfs.js';
export { Preview1, type WasiOptions } from './preview1.js';
export { DeadlineExceeded } from './sleep.js';
