import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { SmsModule } from '../sms/sms.module.js';
import { HealthController } from './health.controller.js';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), SmsModule],
  controllers: [HealthController],
})
export class HealthModule {}
