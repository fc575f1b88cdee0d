import { HttpModule, HttpService } from '@nestjs/axios';
import { Logger, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { ConsoleSmsSender } from './console-sms-sender.js';
import { SmsSender } from './sms-sender.js';
import { XoxzoSmsSender } from './xoxzo-sms-sender.js';

/** Delivers text messages. Exports `SmsSender`, implemented by the driver SMS_DRIVER selects. */
@Module({
  imports: [HttpModule],
  providers: [
    {
      provide: SmsSender,
      inject: [AppConfig, HttpService],
      useFactory: (config: AppConfig, http: HttpService): SmsSender => {
        new Logger('SmsModule').log(`SMS driver: ${config.sms.driver}`);
        return config.sms.driver === 'xoxzo' ? new XoxzoSmsSender(config, http) : new ConsoleSmsSender();
      },
    },
  ],
  exports: [SmsSender],
})
export class SmsModule {}
