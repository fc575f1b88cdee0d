import { Logger } from '@nestjs/common';

/**
 * One module's housekeeping: deletes the rows of its tables that no rule needs any more. A module
 * provides its subclass like any provider; `RetentionService` finds every one and runs it on every
 * instance (the deletes are idempotent).
 */
export abstract class RetentionTask {
  /** Rows removed, per table. One table's failure must not stop the others (use `purgeRows`). */
  abstract purge(): Promise<Record<string, number>>;
}

const logger = new Logger('Retention');

/** Runs one `DELETE …` and counts its rows; a failure is logged and counts as 0 (the next pass retries). */
export async function purgeRows(
  db: { query<T>(sql: string, params?: unknown[]): Promise<T> },
  table: string,
  sql: string,
  params: unknown[] = [],
): Promise<number> {
  try {
    const [, count] = await db.query<[unknown, number]>(sql, params);
    return count;
  } catch (error) {
    logger.warn(`Retention of ${table} failed: ${String(error)}`);
    return 0;
  }
}
