import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SmsDeliveryAndLocale1795627558653 implements MigrationInterface {
  name = 'SmsDeliveryAndLocale1795627558653';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "sms_messages" ("message_id" character varying(64) NOT NULL, "reference" uuid NOT NULL, "status" character varying(16) NOT NULL, "provider_status" character varying(32), "cost" numeric(12,4), "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_27c8b84e1a51aee6b7ee3dbb620" PRIMARY KEY ("message_id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_sms_messages_reference" ON "sms_messages"  ("reference") `);
    await queryRunner.query(`ALTER TABLE "users" ADD "locale" character varying(8) NOT NULL DEFAULT 'en'`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "locale"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_sms_messages_reference"`);
    await queryRunner.query(`DROP TABLE "sms_messages"`);
  }
}
