import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AttemptPurpose1796180488710 implements MigrationInterface {
  name = 'AttemptPurpose1796180488710';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "login_attempts" ADD "purpose" character varying(16) NOT NULL DEFAULT 'login'`,
    );
    await queryRunner.query(`ALTER TABLE "login_attempts" ADD "session_id" uuid`);
    await queryRunner.query(
      `CREATE INDEX "IDX_login_attempts_session_id" ON "login_attempts"  ("session_id") `,
    );
    await queryRunner.query(
      `ALTER TABLE "login_attempts" ADD CONSTRAINT "FK_ae76ff46bfb5d199746d6aaea84" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "login_attempts" DROP CONSTRAINT "FK_ae76ff46bfb5d199746d6aaea84"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_login_attempts_session_id"`);
    await queryRunner.query(`ALTER TABLE "login_attempts" DROP COLUMN "session_id"`);
    await queryRunner.query(`ALTER TABLE "login_attempts" DROP COLUMN "purpose"`);
  }
}
