import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DestinationPause } from './destination-pause.entity.js';
import { DestinationStat } from './destination-stat.entity.js';
import { FraudGuard } from './fraud-guard.service.js';
import { PhoneRetention } from './phone.retention.js';
import { PinDestinations } from './pin-destinations.service.js';

export const PHONE_ENTITIES = [DestinationStat, DestinationPause];

/** Where PINs may go: the number policy and the fraud guard. Exports `PinDestinations` and `FraudGuard`. */
@Module({
  imports: [TypeOrmModule.forFeature(PHONE_ENTITIES)],
  providers: [FraudGuard, PinDestinations, PhoneRetention],
  exports: [FraudGuard, PinDestinations],
})
export class PhoneModule {}
