import { DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DataSourceOptions } from 'typeorm';
import { MigrationsRunner } from './migrations.runner.js';
import { RetentionService } from './retention.service.js';

/** The connection pool, the migrations run at start, and the retention job that runs every module's task. */
@Module({})
export class DatabaseModule {
  static forRoot(options: DataSourceOptions): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [TypeOrmModule.forRoot(options), DiscoveryModule],
      providers: [MigrationsRunner, RetentionService],
    };
  }
}
