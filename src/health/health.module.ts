import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PhoneModule } from '../phone/phone.module.js';
import { SmsModule } from '../sms/sms.module.js';
import { HealthController } from './health.controller.js';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), SmsModule, PhoneModule],
  controllers: [HealthController],
})
export class HealthModule {}
