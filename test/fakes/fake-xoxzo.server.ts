import { randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One SMS the fake accepted. */
export interface FakeSms {
  msgid: string;
  recipient: string;
  sender: string;
  message: string;
  /** Every form field as sent (`callbackurl`, `tags`, ...). */
  fields: Record<string, string>;
  at: Date;
}

/** How the next request(s) fail, as the real API or the network can. */
export type FakeFailure =
  | 'http500'
  | 'http503'
  | 'http429'
  | 'http401'
  | 'http403'
  | 'recipient400'
  /** Accept the connection and never answer. */
  | 'timeout'
  /** Destroy the socket without an answer. */
  | 'reset';

export const FAKE_SID = 'ACfake0123456789';
export const FAKE_TOKEN = 'fake-auth-token-abcdef';

/**
 * A local stand-in for api.xoxzo.com, as strict as the real API is documented to be
 * (shared/reference/xoxzo-sms-api.md): Basic auth, trailing slashes, form encoding for freeform sends,
 * E.164 recipients without a kept trunk 0, sender ID rules, the 660-character message limit, a JSON array
 * `[{"msgid"}]` with 201 on success, DRF-style error bodies. It listens on 127.0.0.1 only.
 */
export class FakeXoxzo {
  readonly sent: FakeSms[] = [];
  /** Every request that reached the fake, accepted or not. */
  requests = 0;
  credits = 1000;
  private failures: FakeFailure[] = [];
  private persistentFailure: FakeFailure | undefined;
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
  failNext(failure: FakeFailure, times = 1): void {
    this.failures.push(...Array<FakeFailure>(times).fill(failure));
  }

  /** Every request fails this way until `recover()`. */
  failAlways(failure: FakeFailure): void {
    this.persistentFailure = failure;
  }

  recover(): void {
    this.persistentFailure = undefined;
    this.failures = [];
  }

  messagesTo(recipient: string): FakeSms[] {
    return this.sent.filter((sms) => sms.recipient === recipient);
  }

  /** The PIN in the latest SMS to this number. */
  lastPinFor(recipient: string): string {
    const last = this.messagesTo(recipient).at(-1);
    const pin = last && /code is (\d{4,8})\b/.exec(last.message)?.[1];
    if (!pin) throw new Error(`No PIN has been sent to ${recipient}`);
    return pin;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requests += 1;
    const body = await readBody(req);
    const failure = this.failures.shift() ?? this.persistentFailure;
    if (failure === 'timeout') return; // hold the socket open; close() destroys it
    if (failure === 'reset') {
      req.socket.destroy();
      return;
    }
    if (!this.authorised(req.headers.authorization)) return json(res, 401, { detail: 'Invalid sid/token' });
    switch (failure) {
      case 'http500':
        res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>Server Error (500)</h1>');
        return;
      case 'http503':
        res.writeHead(503, { 'content-type': 'text/plain' }).end('Service Unavailable');
        return;
      case 'http429':
        res.setHeader('Retry-After', '1');
        return json(res, 429, { detail: 'Request was throttled. Expected available in 1 second.' });
      case 'http401':
        return json(res, 401, { detail: 'Invalid sid/token' });
      case 'http403':
        return json(res, 403, { non_field_errors: ['Not enough credits, required: 20'] });
      case 'recipient400':
        return json(res, 400, { recipient: ['Invalid recipient'] });
    }

    const url = new URL(req.url ?? '/', 'http://fake');
    if (!url.pathname.endsWith('/')) return json(res, 404, { detail: 'Not found.' });
    if (req.method === 'POST' && url.pathname === '/sms/messages/') return this.sendSms(req, body, res);
    if (req.method === 'GET' && url.pathname === '/you/credits/')
      return json(res, 200, { credits: this.credits });
    const status = /^\/sms\/messages\/([A-Za-z0-9]+)\/$/.exec(url.pathname);
    if (req.method === 'GET' && status) return this.messageStatus(status[1], res);
    return json(res, 404, { detail: 'Not found.' });
  }

  private sendSms(req: IncomingMessage, body: string, res: ServerResponse): void {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      return json(res, 415, { detail: `Unsupported media type "${type}" in request.` });
    }
    const fields = Object.fromEntries(new URLSearchParams(body));
    const errors: Record<string, string[]> = {};
    for (const name of ['recipient', 'sender', 'message']) {
      if (!fields[name]) errors[name] = ['This field is required.'];
    }
    const { recipient = '', sender = '', message = '' } = fields;
    if (recipient && !isE164(recipient)) errors.recipient = ['Invalid recipient'];
    if (sender && !/^(?:[A-Za-z0-9]{1,10}|[0-9]{1,15})$/.test(sender)) errors.sender = ['Invalid sender'];
    if (message && [...message].length > 660) errors.message = ['Message too long'];
    if (Object.keys(errors).length) return json(res, 400, errors);
    if (this.credits <= 0) return json(res, 403, { non_field_errors: ['Not enough credits, required: 20'] });

    const msgid = randomBytes(24)
      .toString('base64')
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, 32)
      .padEnd(32, 'x');
    this.sent.push({ msgid, recipient, sender, message, fields, at: new Date() });
    this.credits -= 1;
    json(res, 201, [{ msgid }]);
  }

  private messageStatus(msgid: string, res: ServerResponse): void {
    const sms = this.sent.find((s) => s.msgid === msgid);
    if (!sms) return json(res, 404, { detail: 'Not found.' });
    json(res, 200, {
      msgid,
      status: 'DELIVERED',
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

/** `+` country code and subscriber number, 8-15 digits, no trunk 0 kept after Japan's +81. */
function isE164(recipient: string): boolean {
  return /^\+[1-9][0-9]{7,14}$/.test(recipient) && !recipient.startsWith('+810');
}

function json(res: ServerResponse, status: number, body: unknown): void {
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
