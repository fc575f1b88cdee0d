import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SessionFacts1796180031924 implements MigrationInterface {
  name = 'SessionFacts1796180031924';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Sessions so far all started with a PIN: their second factor was proven when they were authenticated.
    await queryRunner.query(`ALTER TABLE "sessions" ADD "second_factor_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "sessions" ADD "amr" text`);
    await queryRunner.query(
      `UPDATE "sessions" SET "second_factor_at" = "authenticated_at", "amr" = 'pwd,sms,mfa'`,
    );
    await queryRunner.query(`ALTER TABLE "sessions" ALTER COLUMN "second_factor_at" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "sessions" ALTER COLUMN "amr" SET NOT NULL`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "amr"`);
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "second_factor_at"`);
  }
}
