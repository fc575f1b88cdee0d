import type { ClientRequest } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { AxiosError } from 'axios';

/*
 * Did a failed call reach Xoxzo? Its send API has no idempotency key, so a send may be retried only when
 * the answer is a certain "no": `XoxzoError.mayHaveBeenSent` is computed here.
 */

/** Failures before any connection existed: the request certainly never reached Xoxzo. */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EAI_NODATA',
  'EAI_NONAME',
]);

/**
 * Could a request that got no HTTP answer have reached Xoxzo? No when the connection was refused, the name
 * did not resolve, the TLS handshake failed (a certificate error, or no TLS at all: the socket never became
 * an authorised TLS connection), or the request was cut off before Node had written all of it (axios'
 * `error.request` is the `ClientRequest`; `writableFinished` is true once every byte left the process).
 * Yes otherwise — a timeout or a reset after the request was written, and anything unrecognised.
 */
export function mayHaveReachedXoxzo(error: unknown): boolean {
  if (!(error instanceof AxiosError)) return true;
  const code = error.code ?? (error.cause as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && NOT_CONNECTED.has(code)) return false;
  const request = error.request as Partial<ClientRequest> | undefined;
  // axios refused before making any request (e.g. the deadline had already passed).
  if (request === undefined) return false;
  if (typeof request.writableFinished !== 'boolean') return true;
  const socket = request.socket as Partial<TLSSocket> | null | undefined;
  if (typeof code === 'string' && isTlsFailure(code) && socket?.encrypted && socket.authorized !== true) {
    return false;
  }
  return request.writableFinished;
}

function isTlsFailure(code: string): boolean {
  return (
    code === 'EPROTO' ||
    /^ERR_(SSL|TLS)_/.test(code) ||
    /CERT|^UNABLE_TO_|SELF_SIGNED|^HOSTNAME_MISMATCH$/.test(code)
  );
}

/**
 * An HTTP answer other than 200/201: could Xoxzo have sent the SMS anyway? Not after a 4xx (a refusal,
 * 429 included: throttled requests are not processed) nor after a 503 with `Retry-After` (Xoxzo says: come
 * back later). Any other 5xx may come after the message was taken: uncertain.
 */
export function answerMayHaveBeenSent(status: number, retryAfterMs: number | undefined): boolean {
  if (status < 500) return false;
  return !(status === 503 && retryAfterMs !== undefined);
}
