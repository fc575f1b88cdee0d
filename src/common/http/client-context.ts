import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** Who is calling, as far as the network tells: for limits and the audit trail. */
export interface ClientContext {
  /** The socket's address, or the client's as told by a proxy listed in TRUST_PROXY. */
  ip: string;
  userAgent: string | null;
}

export function clientContextOf(request: FastifyRequest): ClientContext {
  const agent = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof agent === 'string' ? agent : null };
}

/** `@Client() client: ClientContext` */
export const Client = createParamDecorator((_data: unknown, ctx: ExecutionContext): ClientContext =>
  clientContextOf(ctx.switchToHttp().getRequest<FastifyRequest>()),
);
