/**
 * The bounds of one outbound request, shared by the guest's import (which refuses before
 * copying out of guest memory) and the host's client. A module of their own, so the import's
 * checks do not load the client (and `node:dns`, `node:http`) into a guest that never calls out.
 */

/** Lambda's synchronous payload limit: a request body the guest could hold is no larger. */
export const MAX_REQUEST_BODY_BYTES = 6 * 1024 * 1024;
/**
 * The longest URL sent. Servers refuse far less (8 KiB is common; Node's own server allows 16
 * KiB for the request line and headers together): this only keeps a guest from handing the
 * host a URL the size of its memory.
 */
export const MAX_URL_BYTES = 64 * 1024;
/** The longest method name sent: methods are short tokens. */
export const MAX_METHOD_BYTES = 64;
