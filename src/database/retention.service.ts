import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { RetentionTask } from './retention.js';

const INTERVAL_MS = 10 * 60 * 1000;

/** Every ten minutes, runs the `RetentionTask` of every module (see `retention.ts`). */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RetentionService.name);
  private timer: NodeJS.Timeout | undefined;
  private tasks: RetentionTask[] = [];

  constructor(private readonly discovery: DiscoveryService) {}

  onApplicationBootstrap(): void {
    this.tasks = this.discovery
      .getProviders()
      .map((wrapper) => wrapper.instance as unknown)
      .filter((instance): instance is RetentionTask => instance instanceof RetentionTask);
    this.timer = setInterval(() => void this.run(), INTERVAL_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** One pass of every task; returns how many rows each table lost. Never throws. */
  async run(): Promise<Record<string, number>> {
    const removed: Record<string, number> = {};
    for (const task of this.tasks) {
      try {
        Object.assign(removed, await task.purge());
      } catch (error) {
        this.logger.warn(`Retention task ${task.constructor.name} failed: ${String(error)}`);
      }
    }
    return removed;
  }
}
