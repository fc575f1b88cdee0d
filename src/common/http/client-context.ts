import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { normaliseIp } from './client-ip.js';

/** Who is calling, as far as the network tells: for limits and the audit trail. */
export interface ClientContext {
  /** The socket's address, or the client's as told by a proxy listed in TRUST_PROXY. */
  ip: string;
  userAgent: string | null;
}

/**
 * The client's IP comes from Fastify (`request.ip`: the socket's address, or under TRUST_PROXY the hop the
 * trusted proxy reported), normalised to one canonical IP. A forwarded value that is not an IP (a port, a
 * name, garbage) is not believed: the socket's address is used instead.
 */
export function clientContextOf(request: FastifyRequest): ClientContext {
  const agent = request.headers['user-agent'];
  const ip = normaliseIp(request.ip) ?? normaliseIp(request.socket?.remoteAddress) ?? '0.0.0.0';
  return { ip, userAgent: typeof agent === 'string' ? agent.slice(0, 512) : null };
}

/** `@Client() client: ClientContext` */
export const Client = createParamDecorator((_data: unknown, ctx: ExecutionContext): ClientContext =>
  clientContextOf(ctx.switchToHttp().getRequest<FastifyRequest>()),
);
