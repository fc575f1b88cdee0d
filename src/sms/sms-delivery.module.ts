import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DeliveryReportsController } from './delivery-reports.controller.js';
import { SmsDeliveryService } from './sms-delivery.service.js';
import { SmsMessage } from './sms-message.entity.js';
import { SmsModule } from './sms.module.js';

/**
 * What became of each SMS: the `sms_messages` table, fed by Xoxzo's delivery reports
 * (`POST /sms/xoxzo/delivery-reports`, re-read from Xoxzo). Exports `SmsDeliveryService`.
 */
@Module({
  imports: [SmsModule, TypeOrmModule.forFeature([SmsMessage])],
  controllers: [DeliveryReportsController],
  providers: [SmsDeliveryService],
  exports: [SmsDeliveryService],
})
export class SmsDeliveryModule {}
