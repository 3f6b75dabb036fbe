/**
 * Why an outbound call produced no response. Stable: the guest's glue maps each code to its
 * own error type, and people read the message.
 */
export type OutboundErrorCode =
  /** The policy refused the destination; nothing was sent. The message says what to grant. */
  | 'EgressDenied'
  /** The request itself is malformed (URL, method, header, body size); nothing was sent. */
  | 'InvalidRequest'
  /** The host name did not resolve. */
  | 'DnsError'
  /** No TCP connection could be made (refused, unreachable). */
  | 'ConnectError'
  /** The TLS handshake failed: the certificate did not verify, or the protocols did not agree. */
  | 'TlsError'
  /** No complete response before `min(request timeout, invocation deadline)`. */
  | 'Timeout'
  /** The peer closed or reset the connection before the response was complete. */
  | 'ConnectionReset'
  /** The response body is larger than the client accepts; the connection was dropped. */
  | 'ResponseTooLarge'
  /** The peer did not speak HTTP/1.1 we can read (malformed status line or headers, an upgrade). */
  | 'ProtocolError'
  /** The caller cancelled the call (`SendOptions.signal`); the guest never sees this one. */
  | 'Cancelled';

/** A complete response. Header names are lower case, in the order received, repeats kept. */
export interface OutboundResponse {
  ok: true;
  status: number;
  headers: [name: string, value: string][];
  /** The bytes as received: a `content-encoding` such as gzip is not decoded. */
  body: Uint8Array;
}

export interface OutboundFailure {
  ok: false;
  code: OutboundErrorCode;
  message: string;
}

/** What `OutboundClient.send` resolves to; it never rejects. */
export type OutboundResult = OutboundResponse | OutboundFailure;

export function failure(code: OutboundErrorCode, message: string): OutboundFailure {
  return { ok: false, code, message };
}
