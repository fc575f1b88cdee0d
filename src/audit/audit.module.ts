import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditController } from './audit.controller.js';
import { AuditService } from './audit.service.js';
import { AuthEvent } from './auth-event.entity.js';

/** The audit trail (`auth_events`). Global: any module may record an event. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AuthEvent])],
  controllers: [AuditController],
  providers: [AuditService],
  exports: [AuditService],
})
export class AuditModule {}
