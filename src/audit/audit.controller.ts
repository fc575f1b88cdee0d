import { Controller, DefaultValuePipe, Get, ParseIntPipe, Query } from '@nestjs/common';
import { CurrentUser, type FullPrincipal } from '../common/index.js';
import { AuditService } from './audit.service.js';

export interface AuthEventView {
  type: string;
  at: string;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, string | number> | null;
}

@Controller('users/me/events')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  /** The caller's recent security events, newest first (`?limit=1..100`, default 50). */
  @Get()
  async list(
    @CurrentUser() principal: FullPrincipal,
    @Query('limit', new DefaultValuePipe(50), ParseIntPipe) limit: number,
  ): Promise<{ events: AuthEventView[] }> {
    const events = await this.audit.recent(principal.userId, Math.min(100, Math.max(1, limit)));
    return {
      events: events.map((e) => ({
        type: e.type,
        at: e.createdAt.toISOString(),
        ip: e.ip,
        userAgent: e.userAgent,
        details: e.details,
      })),
    };
  }
}
