import type { MigrationInterface, QueryRunner } from 'typeorm';

export class DropLoginAttemptSmsMessageId1795631422843 implements MigrationInterface {
  name = 'DropLoginAttemptSmsMessageId1795631422843';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "login_attempts" DROP COLUMN "sms_message_id"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "login_attempts" ADD "sms_message_id" character varying(64)`);
  }
}
