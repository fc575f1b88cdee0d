import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AuditEventsWithoutIp1796184817150 implements MigrationInterface {
  name = 'AuditEventsWithoutIp1796184817150';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "auth_events" ALTER COLUMN "ip" DROP NOT NULL`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`UPDATE "auth_events" SET "ip" = 'unknown' WHERE "ip" IS NULL`);
    await queryRunner.query(`ALTER TABLE "auth_events" ALTER COLUMN "ip" SET NOT NULL`);
  }
}
