import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SessionOrigins1796181146527 implements MigrationInterface {
  name = 'SessionOrigins1796181146527';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" ADD "ip" character varying(45)`);
    await queryRunner.query(`ALTER TABLE "sessions" ADD "user_agent" character varying(256)`);
    await queryRunner.query(`ALTER TABLE "sessions" ADD "last_used_at" TIMESTAMP WITH TIME ZONE`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "last_used_at"`);
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "user_agent"`);
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "ip"`);
  }
}
