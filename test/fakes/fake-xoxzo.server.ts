import { randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { AxiosInstance } from 'axios';

/** One SMS the fake accepted. */
export interface FakeSms {
  msgid: string;
  recipient: string;
  sender: string;
  message: string;
  /** Every form field as sent (`callbackurl`, `tags`, ...); for a template send, its top-level strings. */
  fields: Record<string, string>;
  at: Date;
  /** Set for a template send: the template used and the variables supplied (the message is the rendering). */
  templateId?: string;
  variables?: Record<string, string>;
}

/** A template as registered in the Xoxzo dashboard: `{name}` placeholders; only APPROVED ones send. */
export interface FakeTemplate {
  body: string;
  status: 'APPROVED' | 'PENDING';
}

/** Tuning of an injected failure. */
export interface FakeFailureOptions {
  /**
   * The `Retry-After` header in seconds: `http429` (default 1; null = no header) and `http503` (default: no
   * header).
   */
  retryAfter?: number | null;
  /** `slow`: how long to wait before answering normally (default 1000 ms). */
  delayMs?: number;
  /**
   * Xoxzo took the message before the failure (`timeout`, `reset`, `http500`, `http503`): a valid send is
   * accepted (recorded in `sent`, credit charged) and only the answer is lost. The client cannot tell.
   */
  accepted?: boolean;
}

/** How the next request(s) fail, as the real API or the network can. */
export type FakeFailure =
  | 'http500'
  | 'http503'
  | 'http429'
  | 'http401'
  | 'http403'
  | 'recipient400'
  /** Accept the connection, read the request and never answer. */
  | 'timeout'
  /** Read the request, then destroy the socket without an answer. */
  | 'reset'
  /** Answer normally, but only after `delayMs` (the SMS is sent even if the client gave up). */
  | 'slow';

export const FAKE_SID = 'ACfake0123456789';
export const FAKE_TOKEN = 'fake-auth-token-abcdef';
/** Nothing listens on port 1 (privileged, never an ephemeral port): connecting to it is refused. */
export const REFUSING_URL = 'http://127.0.0.1:1';

/**
 * A local stand-in for api.xoxzo.com, as strict as the real API is documented to be
 * (https://docs.xoxzo.com, SMS pages, and the official clients): Basic auth, trailing slashes, form encoding for freeform sends,
 * E.164 recipients without a kept trunk 0, sender ID rules, the 660-character message limit, a JSON array
 * `[{"msgid"}]` with 201 on success, DRF-style error bodies. It listens on 127.0.0.1 only.
 *
 * Template sends (`POST /sms/templates/<id>/messages/`) take JSON only, need a registered (`templates`) and
 * APPROVED template, and every `{placeholder}` of its body in `variables`. `setStatus()` changes what
 * `GET /sms/messages/<msgid>/` reports; `deliveryReport()` plays Xoxzo calling a message's `callbackurl`.
 *
 * Failures: `failNext` / `failAlways` answer the way the API or the network can fail, either before Xoxzo
 * took the message or (`accepted`) after it did, when only the answer is lost; `refuseNext` makes the
 * client's connections fail before any byte is written. `sent` holds every SMS accepted, so a test can
 * check that one counted send reached the phone at most once.
 */
export class FakeXoxzo {
  readonly sent: FakeSms[] = [];
  /** Every request that reached the fake, accepted or not. */
  requests = 0;
  /** Connections refused by `refuseNext` (they never reach the fake: not in `requests` or `calls`). */
  refused = 0;
  credits = 1000;
  /** Templates by id; register them before sending with them. */
  readonly templates = new Map<string, FakeTemplate>();
  /** Method and path of every request, in order (e.g. to count `GET /you/credits/`). */
  readonly calls: { method: string; path: string }[] = [];
  private failures: { failure: FakeFailure; options: FakeFailureOptions }[] = [];
  private refusing = 0;
  private readonly intercepted = new WeakSet<AxiosInstance>();
  private persistentFailure: { failure: FakeFailure; options: FakeFailureOptions } | undefined;
  private readonly statuses = new Map<string, string>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;

  constructor(
    private readonly sid = FAKE_SID,
    private readonly token = FAKE_TOKEN,
  ) {}

  get url(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    if (!address) throw new Error('FakeXoxzo is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The next `times` requests fail this way, then the fake behaves again. */
  failNext(failure: FakeFailure, times = 1, options: FakeFailureOptions = {}): void {
    for (let i = 0; i < times; i += 1) this.failures.push({ failure, options });
  }

  /** Every request fails this way until `recover()`. */
  failAlways(failure: FakeFailure, options: FakeFailureOptions = {}): void {
    this.persistentFailure = { failure, options };
  }

  recover(): void {
    this.persistentFailure = undefined;
    this.failures = [];
    this.refusing = 0;
  }

  /**
   * The next `times` requests that `http` (the client's axios instance) makes to this fake are refused at
   * the TCP level (ECONNREFUSED), before any byte of them is written: a request the fake cannot refuse
   * itself, since a listening socket accepts every connection. Installs one interceptor per instance.
   */
  refuseNext(http: AxiosInstance, times = 1): void {
    this.refusing += times;
    if (this.intercepted.has(http)) return;
    this.intercepted.add(http);
    http.interceptors.request.use((config) => {
      const target = config.baseURL ?? config.url ?? '';
      if (this.refusing <= 0 || !this.server?.listening || !target.startsWith(this.url)) return config;
      this.refusing -= 1;
      this.refused += 1;
      return config.baseURL ? { ...config, baseURL: REFUSING_URL } : { ...config, url: REFUSING_URL };
    });
  }

  /** How many `GET /sms/messages/<msgid>/` (status reads) reached the fake, for one msgid or all. */
  statusReads(msgid?: string): number {
    return this.calls.filter(
      (c) =>
        c.method === 'GET' &&
        (msgid ? c.path === `/sms/messages/${msgid}/` : /^\/sms\/messages\/[^/]+\/$/.test(c.path)),
    ).length;
  }

  messagesTo(recipient: string): FakeSms[] {
    return this.sent.filter((sms) => sms.recipient === recipient);
  }

  /** The PIN in the latest SMS to this number (English or Japanese text, or the WebOTP line). */
  lastPinFor(recipient: string): string {
    const last = this.messagesTo(recipient).at(-1);
    const pin =
      last &&
      [
        /code (?:is )?(\d{4,8})\b/,
        /(?:認証コード|認証番号)[:：]?\s*(\d{4,8})/,
        /\s(\d{4,8})（\d+分）/,
        /#(\d{4,8})\s*$/,
      ]
        .map((pattern) => pattern.exec(last.message)?.[1])
        .find(Boolean);
    if (!pin) throw new Error(`No PIN has been sent to ${recipient}`);
    return pin;
  }

  /** What `GET /sms/messages/<msgid>/` reports from now on (`QUEUED`, `DELIVERED`, `FAILED`, ...). */
  setStatus(msgid: string, status: string): void {
    if (!this.sent.some((sms) => sms.msgid === msgid)) throw new Error(`No SMS ${msgid} was sent`);
    this.statuses.set(msgid, status);
  }

  /**
   * Plays Xoxzo reporting delivery: POSTs form-encoded `msgid` and `status` (the current one, or `status`)
   * to the `callbackurl` the message was sent with. Resolves to the HTTP status the callback answered.
   */
  async deliveryReport(msgid: string, status?: string): Promise<number> {
    const sms = this.sent.find((s) => s.msgid === msgid);
    if (!sms) throw new Error(`No SMS ${msgid} was sent`);
    const callbackurl = sms.fields.callbackurl;
    if (!callbackurl) throw new Error(`SMS ${msgid} was sent without a callbackurl`);
    if (status) this.statuses.set(msgid, status);
    const response = await fetch(callbackurl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ msgid, status: this.statusOf(msgid) }).toString(),
    });
    await response.arrayBuffer();
    return response.status;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requests += 1;
    this.calls.push({ method: req.method ?? '', path: new URL(req.url ?? '/', 'http://fake').pathname });
    const body = await readBody(req);
    const { failure, options } = this.failures.shift() ?? this.persistentFailure ?? { options: {} };
    // Xoxzo took the message (if valid and authorised) but its answer is lost: handled, then discarded.
    if (failure && options.accepted && this.authorised(req.headers.authorization)) {
      this.route(req, body, DISCARD);
    }
    if (failure === 'timeout') return; // hold the socket open; close() destroys it
    if (failure === 'reset') {
      req.socket.destroy();
      return;
    }
    if (failure === 'slow') await delay(options.delayMs ?? 1000);
    if (!this.authorised(req.headers.authorization)) return json(res, 401, { detail: 'Invalid sid/token' });
    switch (failure) {
      case 'http500':
        res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>Server Error (500)</h1>');
        return;
      case 'http503': {
        const retryAfter = options.retryAfter ?? null;
        if (retryAfter !== null) res.setHeader('Retry-After', String(retryAfter));
        res.writeHead(503, { 'content-type': 'text/plain' }).end('Service Unavailable');
        return;
      }
      case 'http429': {
        const retryAfter = options.retryAfter === undefined ? 1 : options.retryAfter;
        if (retryAfter !== null) res.setHeader('Retry-After', String(retryAfter));
        return json(res, 429, {
          detail: `Request was throttled. Expected available in ${retryAfter ?? 1} second${retryAfter === 1 ? '' : 's'}.`,
        });
      }
      case 'http401':
        return json(res, 401, { detail: 'Invalid sid/token' });
      case 'http403':
        return json(res, 403, { non_field_errors: ['Not enough credits, required: 20'] });
      case 'recipient400':
        return json(res, 400, { recipient: ['Invalid recipient'] });
    }
    this.route(req, body, res);
  }

  /** The API proper, for an authorised request. */
  private route(req: IncomingMessage, body: string, res: Reply): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (!url.pathname.endsWith('/')) return json(res, 404, { detail: 'Not found.' });
    if (req.method === 'POST' && url.pathname === '/sms/messages/') return this.sendSms(req, body, res);
    const template = /^\/sms\/templates\/([^/]+)\/messages\/$/.exec(url.pathname);
    if (req.method === 'POST' && template) {
      return this.sendTemplate(decodeURIComponent(template[1]), req, body, res);
    }
    if (req.method === 'GET' && url.pathname === '/you/credits/')
      return json(res, 200, { credits: this.credits });
    const status = /^\/sms\/messages\/([A-Za-z0-9]+)\/$/.exec(url.pathname);
    if (req.method === 'GET' && status) return this.messageStatus(status[1], res);
    return json(res, 404, { detail: 'Not found.' });
  }

  private sendSms(req: IncomingMessage, body: string, res: Reply): void {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      return json(res, 415, { detail: `Unsupported media type "${type}" in request.` });
    }
    const fields = Object.fromEntries(new URLSearchParams(body));
    const errors = checkAddressing(fields);
    const { recipient = '', sender = '', message = '' } = fields;
    if (!message) errors.message = ['This field is required.'];
    if (message && [...message].length > 660) errors.message = ['Message too long'];
    if (Object.keys(errors).length) return json(res, 400, errors);
    this.accept(res, { recipient, sender, message, fields });
  }

  private sendTemplate(templateId: string, req: IncomingMessage, body: string, res: Reply): void {
    const template = this.templates.get(templateId);
    if (!template) return json(res, 404, { detail: 'Not found.' });
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') {
      return json(res, 415, { detail: `Unsupported media type "${type}" in request.` });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return json(res, 400, { detail: 'JSON parse error' });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return json(res, 400, { non_field_errors: ['Invalid data. Expected a dictionary.'] });
    }
    const data = parsed as Record<string, unknown>;
    const fields = Object.fromEntries(
      Object.entries(data).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
    const errors = checkAddressing(fields);
    const variables = data.variables ?? {};
    if (
      typeof variables !== 'object' ||
      variables === null ||
      Array.isArray(variables) ||
      Object.values(variables).some((v) => typeof v !== 'string')
    ) {
      errors.variables = ['Must be an object of strings.'];
    }
    if (Object.keys(errors).length) return json(res, 400, errors);
    if (template.status !== 'APPROVED') {
      return json(res, 400, { non_field_errors: ['Template is not approved'] });
    }
    const supplied = variables as Record<string, string>;
    const missing = [...template.body.matchAll(/\{(\w+)\}/g)]
      .map((m) => m[1])
      .filter((name) => !(name in supplied));
    if (missing.length) {
      return json(res, 400, { variables: [...new Set(missing)].map((name) => `Missing variable: ${name}`) });
    }
    const message = template.body.replace(/\{(\w+)\}/g, (_, name: string) => supplied[name]);
    if ([...message].length > 660) return json(res, 400, { message: ['Message too long'] });
    this.accept(res, {
      recipient: fields.recipient,
      sender: fields.sender,
      message,
      fields,
      templateId,
      variables: { ...supplied },
    });
  }

  private accept(res: Reply, sms: Omit<FakeSms, 'msgid' | 'at'>): void {
    if (this.credits <= 0) return json(res, 403, { non_field_errors: ['Not enough credits, required: 20'] });
    const msgid = randomBytes(24)
      .toString('base64')
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, 32)
      .padEnd(32, 'x');
    this.sent.push({ msgid, ...sms, at: new Date() });
    this.credits -= 1;
    json(res, 201, [{ msgid }]);
  }

  private statusOf(msgid: string): string {
    return this.statuses.get(msgid) ?? 'DELIVERED';
  }

  private messageStatus(msgid: string, res: Reply): void {
    const sms = this.sent.find((s) => s.msgid === msgid);
    if (!sms) return json(res, 404, { detail: 'Not found.' });
    json(res, 200, {
      msgid,
      status: this.statusOf(msgid),
      sent_time: sms.at.toISOString().replace('T', ' ').slice(0, 19),
      cost: 1.0,
      sender: sms.sender,
      recipient: sms.recipient,
      tags: [],
      url: `${this.url}/sms/messages/${msgid}/`,
    });
  }

  private authorised(header: string | undefined): boolean {
    const match = /^Basic (.+)$/.exec(header ?? '');
    return !!match && Buffer.from(match[1], 'base64').toString('utf8') === `${this.sid}:${this.token}`;
  }
}

/** DRF-style errors for the `recipient` and `sender` fields both send endpoints take. */
function checkAddressing(fields: Record<string, string>): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  const { recipient = '', sender = '' } = fields;
  if (!recipient) errors.recipient = ['This field is required.'];
  else if (!isE164(recipient)) errors.recipient = ['Invalid recipient'];
  if (!sender) errors.sender = ['This field is required.'];
  else if (!/^(?:[A-Za-z0-9]{1,10}|[0-9]{1,15})$/.test(sender)) errors.sender = ['Invalid sender'];
  return errors;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** `+` country code and subscriber number, 8-15 digits, no trunk 0 kept after Japan's +81. */
function isE164(recipient: string): boolean {
  return /^\+[1-9][0-9]{7,14}$/.test(recipient) && !recipient.startsWith('+810');
}

/** Where an answer goes: the real response, or nowhere (`DISCARD`, for an answer that is lost). */
interface Reply {
  writeHead(status: number, headers: Record<string, string>): { end(body: string): unknown };
}

const DISCARD: Reply = { writeHead: () => ({ end: () => undefined }) };

function json(res: Reply, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}
