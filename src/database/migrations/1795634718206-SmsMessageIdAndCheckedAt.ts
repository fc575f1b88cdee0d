import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `sms_messages` gets its own id, made before the send (the delivery-report URL names it); `message_id`
 * becomes nullable (unknown while the send is under way, or when its answer was lost) and unique; and
 * `checked_at` records the last status read from Xoxzo. Existing rows get random ids.
 */
export class SmsMessageIdAndCheckedAt1795634718206 implements MigrationInterface {
  name = 'SmsMessageIdAndCheckedAt1795634718206';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sms_messages" ADD "id" uuid`);
    await queryRunner.query(`UPDATE "sms_messages" SET "id" = gen_random_uuid()`);
    await queryRunner.query(`ALTER TABLE "sms_messages" ALTER COLUMN "id" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "sms_messages" DROP CONSTRAINT "PK_27c8b84e1a51aee6b7ee3dbb620"`);
    await queryRunner.query(
      `ALTER TABLE "sms_messages" ADD CONSTRAINT "PK_6d4cfef86e93e3fde23954d11bc" PRIMARY KEY ("id")`,
    );
    await queryRunner.query(`ALTER TABLE "sms_messages" ALTER COLUMN "message_id" DROP NOT NULL`);
    await queryRunner.query(
      `ALTER TABLE "sms_messages" ADD CONSTRAINT "UQ_27c8b84e1a51aee6b7ee3dbb620" UNIQUE ("message_id")`,
    );
    await queryRunner.query(`ALTER TABLE "sms_messages" ADD "checked_at" TIMESTAMP WITH TIME ZONE`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sms_messages" DROP COLUMN "checked_at"`);
    await queryRunner.query(`ALTER TABLE "sms_messages" DROP CONSTRAINT "UQ_27c8b84e1a51aee6b7ee3dbb620"`);
    // Rows without a provider id (sends whose answer was lost) cannot be keyed by it: they go.
    await queryRunner.query(`DELETE FROM "sms_messages" WHERE "message_id" IS NULL`);
    await queryRunner.query(`ALTER TABLE "sms_messages" ALTER COLUMN "message_id" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "sms_messages" DROP CONSTRAINT "PK_6d4cfef86e93e3fde23954d11bc"`);
    await queryRunner.query(
      `ALTER TABLE "sms_messages" ADD CONSTRAINT "PK_27c8b84e1a51aee6b7ee3dbb620" PRIMARY KEY ("message_id")`,
    );
    await queryRunner.query(`ALTER TABLE "sms_messages" DROP COLUMN "id"`);
  }
}
