import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditController } from './audit.controller.js';
import { AuditRetention } from './audit.retention.js';
import { AuditService } from './audit.service.js';
import { AuthEvent } from './auth-event.entity.js';

export const AUDIT_ENTITIES = [AuthEvent];

/** The audit trail (`auth_events`). Global: any module may record an event. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature(AUDIT_ENTITIES)],
  controllers: [AuditController],
  providers: [AuditService, AuditRetention],
  exports: [AuditService],
})
export class AuditModule {}
