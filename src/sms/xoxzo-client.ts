import { HttpService } from '@nestjs/axios';
import { Injectable } from '@nestjs/common';
import { AxiosError, AxiosRequestConfig, AxiosResponse } from 'axios';
import { firstValueFrom } from 'rxjs';
import { SmsConfig } from './sms.config.js';
import type { SendOptions, SmsFailureKind } from './sms-sender.js';
import { answerMayHaveBeenSent, mayHaveReachedXoxzo } from './xoxzo-outcome.js';

/** A message's delivery status as Xoxzo reports it, normalised. */
export interface XoxzoMessage {
  msgid: string;
  status: 'pending' | 'delivered' | 'failed' | 'unknown';
  /** Xoxzo's own word (`QUEUED`, `DELIVERED`, `FAILED`, ...): the status list differs between sources. */
  rawStatus: string;
  /** Credits charged, when reported. */
  cost: number | null;
  /** `sent_time` (no zone in the API: read as UTC). */
  sentAt: Date | null;
}

export interface FreeformSms {
  recipient: string;
  message: string;
  callbackurl?: string;
}

export interface TemplateSms {
  recipient: string;
  variables: Record<string, string>;
  callbackurl?: string;
}

/** One failed call to Xoxzo: an HTTP answer other than 200/201, or no answer at all. */
export class XoxzoError extends Error {
  /**
   * Whether Xoxzo may have acted on the request (for a send: the SMS may go out). False only when it
   * certainly did not: the request never reached it (connection refused, DNS, TLS handshake, cut off before
   * it was fully written), or Xoxzo said so (429, 503 with `Retry-After`, any 4xx). True for timeouts, resets
   * after the request was written, and any other 5xx: Xoxzo's send API has no idempotency key.
   */
  readonly mayHaveBeenSent: boolean;

  constructor(
    readonly kind: SmsFailureKind,
    message: string,
    /** The HTTP status, when Xoxzo answered. */
    readonly status?: number,
    /** The parsed JSON error body (DRF style: field → messages), when there was one. */
    readonly body?: Record<string, unknown>,
    /** `Retry-After`, in milliseconds, when Xoxzo sent one. */
    readonly retryAfterMs?: number,
    options: { cause?: unknown; mayHaveBeenSent?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'XoxzoError';
    this.mayHaveBeenSent = options.mayHaveBeenSent ?? true;
  }
}

const STATUS_MAP: Record<string, XoxzoMessage['status']> = {
  QUEUED: 'pending',
  DELIVERING: 'pending',
  DELIVERED: 'delivered',
  OK: 'delivered',
  FAIL: 'failed',
  FAILED: 'failed',
};

/** Xoxzo's status word → ours; an open set, so anything new is `unknown`. */
export function normaliseXoxzoStatus(raw: string): XoxzoMessage['status'] {
  return STATUS_MAP[raw.trim().toUpperCase()] ?? 'unknown';
}

/**
 * The Xoxzo HTTP API (https://docs.xoxzo.com, SMS pages), one request per call, no retries: HTTP Basic auth
 * (SID:token), every path with its trailing slash, form-encoded freeform sends, JSON template sends, a timeout
 * on every call (`XOXZO_TIMEOUT_MS`, also cut short by `options.signal`). Anything but 200/201 rejects with a
 * `XoxzoError` whose `kind` says what went wrong.
 */
@Injectable()
export class XoxzoClient {
  private readonly xoxzo: SmsConfig['xoxzo'];

  constructor(
    config: SmsConfig,
    private readonly http: HttpService,
  ) {
    this.xoxzo = config.xoxzo;
  }

  /** `POST /sms/messages/`, form-encoded. Resolves to the msgid (null if Xoxzo gave none). */
  async sendFreeform(sms: FreeformSms, options: SendOptions = {}): Promise<string | null> {
    const form = new URLSearchParams({
      recipient: sms.recipient,
      sender: this.xoxzo.sender,
      message: sms.message,
    });
    if (sms.callbackurl) form.set('callbackurl', sms.callbackurl);
    const response = await this.request(
      { method: 'POST', url: '/sms/messages/', data: form.toString() },
      'application/x-www-form-urlencoded; charset=utf-8',
      options,
    );
    return extractMsgid(response.data);
  }

  /** `POST /sms/templates/<id>/messages/`, JSON. Only an APPROVED template sends. */
  async sendTemplate(
    templateId: string,
    sms: TemplateSms,
    options: SendOptions = {},
  ): Promise<string | null> {
    const body: Record<string, unknown> = {
      sender: this.xoxzo.sender,
      recipient: sms.recipient,
      variables: sms.variables,
    };
    if (sms.callbackurl) body.callbackurl = sms.callbackurl;
    const response = await this.request(
      {
        method: 'POST',
        url: `/sms/templates/${encodeURIComponent(templateId)}/messages/`,
        data: JSON.stringify(body),
      },
      'application/json; charset=utf-8',
      options,
    );
    return extractMsgid(response.data);
  }

  /** `GET /sms/messages/<msgid>/`, normalised; `null` when Xoxzo does not know the msgid (404). */
  async getMessage(msgid: string, options: SendOptions = {}): Promise<XoxzoMessage | null> {
    if (!/^[A-Za-z0-9]{1,64}$/.test(msgid)) return null;
    let response: AxiosResponse<unknown>;
    try {
      response = await this.request({ method: 'GET', url: `/sms/messages/${msgid}/` }, undefined, options);
    } catch (error) {
      if (error instanceof XoxzoError && error.status === 404) return null;
      throw error;
    }
    const data = asObject(response.data);
    const rawStatus = typeof data?.status === 'string' ? data.status : '';
    return {
      msgid: typeof data?.msgid === 'string' ? data.msgid : msgid,
      status: normaliseXoxzoStatus(rawStatus),
      rawStatus,
      cost: typeof data?.cost === 'number' && Number.isFinite(data.cost) ? data.cost : null,
      sentAt: parseSentTime(data?.sent_time),
    };
  }

  /** `GET /you/credits/`: the account's balance. */
  async getCredits(options: SendOptions = {}): Promise<number> {
    const response = await this.request({ method: 'GET', url: '/you/credits/' }, undefined, options);
    const credits = asObject(response.data)?.credits;
    if (typeof credits !== 'number' || !Number.isFinite(credits)) {
      throw new XoxzoError('provider_error', 'Xoxzo returned no credit balance', response.status);
    }
    return credits;
  }

  private async request(
    request: AxiosRequestConfig,
    contentType: string | undefined,
    options: SendOptions,
  ): Promise<AxiosResponse<unknown>> {
    const { sid, authToken, apiUrl, timeoutMs } = this.xoxzo;
    if (!sid || !authToken) {
      throw new XoxzoError(
        'credentials',
        'Xoxzo is not configured (XOXZO_API_SID/XOXZO_API_AUTH_TOKEN)',
        undefined,
        undefined,
        undefined,
        { mayHaveBeenSent: false },
      );
    }
    const signals = [AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])];
    let response: AxiosResponse<unknown>;
    try {
      response = await firstValueFrom(
        this.http.request<unknown>({
          ...request,
          baseURL: apiUrl,
          auth: { username: sid, password: authToken },
          headers: { Accept: 'application/json', ...(contentType ? { 'Content-Type': contentType } : {}) },
          timeout: timeoutMs,
          signal: AbortSignal.any(signals),
          maxContentLength: 64 * 1024,
          maxRedirects: 0,
          validateStatus: () => true,
        }),
      );
    } catch (error) {
      const detail = options.signal?.aborted
        ? 'deadline reached'
        : error instanceof AxiosError
          ? (error.code ?? error.message)
          : String(error);
      throw new XoxzoError('transport', `Xoxzo unreachable: ${detail}`, undefined, undefined, undefined, {
        cause: error,
        mayHaveBeenSent: mayHaveReachedXoxzo(error),
      });
    }
    const { status } = response;
    if (status === 200 || status === 201) return response;
    const body = asObject(response.data);
    const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
    throw new XoxzoError(kindOf(status, body), `Xoxzo answered ${status}`, status, body, retryAfterMs, {
      mayHaveBeenSent: answerMayHaveBeenSent(status, retryAfterMs),
    });
  }
}

function kindOf(status: number, body: Record<string, unknown> | undefined): SmsFailureKind {
  if (status === 400 && body && 'recipient' in body) return 'recipient_rejected';
  if (status === 401) return 'credentials';
  if (status === 403) return 'no_credit';
  if (status === 429) return 'throttled';
  if (status >= 500) return 'provider_error';
  // Other 4xx (bad sender, message too long, unknown or pending template, 404 path) and 3xx (a wrong
  // XOXZO_API_URL): the same request would fail again.
  return 'rejected_request';
}

/** `Retry-After` in seconds (or an HTTP date) → milliseconds; undefined when absent or unreadable. */
export function parseRetryAfter(header: unknown, now = Date.now()): number | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function extractMsgid(data: unknown): string | null {
  const first: unknown = Array.isArray(data) ? data[0] : data;
  const msgid = asObject(first)?.msgid;
  return typeof msgid === 'string' && /^[A-Za-z0-9]{1,64}$/.test(msgid) ? msgid : null;
}

function asObject(data: unknown): Record<string, unknown> | undefined {
  return typeof data === 'object' && data !== null && !Array.isArray(data)
    ? (data as Record<string, unknown>)
    : undefined;
}

/** `2020-10-09 02:37:47` (no zone: UTC) or any ISO date → Date; null when absent or unreadable. */
function parseSentTime(value: unknown): Date | null {
  if (typeof value !== 'string' || !value.trim()) return null;
  const naive = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value.trim());
  const date = new Date(naive ? `${value.trim().replace(' ', 'T')}Z` : value);
  return Number.isNaN(date.getTime()) ? null : date;
}
