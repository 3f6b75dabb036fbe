/**
 * The bounds every guest-supplied count and length is checked against before the layer does
 * any work or allocation proportional to it. A guest over a bound gets an errno, never a
 * host allocation of its choosing.
 */

/** iovecs per `fd_read`/`fd_write`/`fd_pread`/`fd_pwrite` (POSIX `IOV_MAX`); more is `EINVAL`. */
export const MAX_IOVS = 1024;

/**
 * Bytes one read or write moves at most. Larger requests are short (as POSIX allows), not
 * refused: guests loop on short writes, and this keeps one call's host work bounded.
 */
export const MAX_IO_BYTES = 16 * 2 ** 20;

/** Bytes one `random_get` fills at most; more is `EINVAL` (getrandom(2) also caps requests). */
export const MAX_RANDOM_BYTES = 16 * 2 ** 20;

/** `crypto.randomFillSync` is given at most this many bytes at a time (its own limit is 2^31-1). */
export const RANDOM_CHUNK_BYTES = 65_536;

/** Subscriptions per `poll_oneoff`; more is `EINVAL`. */
export const MAX_SUBSCRIPTIONS = 4096;

/** Open descriptors per guest; one more is `EMFILE`. */
export const MAX_FDS = 1024;

/** A path argument longer than this is `ENAMETOOLONG` (Linux `PATH_MAX`). */
export const MAX_PATH_BYTES = 4096;

/** One path component longer than this is `ENAMETOOLONG` (Linux `NAME_MAX`). */
export const MAX_NAME_BYTES = 255;

/** Symbolic links followed while resolving one path; more is `ELOOP` (Linux `MAXSYMLINKS`). */
export const MAX_SYMLINK_HOPS = 40;

/** Hard links one file may have; one more is `EMLINK`. */
export const MAX_LINKS = 65_000;
