import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SecondFactorFailures1796176306262 implements MigrationInterface {
  name = 'SecondFactorFailures1796176306262';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "second_factor_failures" ("user_id" uuid NOT NULL, "failures" integer NOT NULL, "last_failure_at" TIMESTAMP WITH TIME ZONE NOT NULL, "locked_until" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_2a2559fa333d939c3f457d4f08b" PRIMARY KEY ("user_id"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "second_factor_failures" ADD CONSTRAINT "FK_2a2559fa333d939c3f457d4f08b" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "second_factor_failures" DROP CONSTRAINT "FK_2a2559fa333d939c3f457d4f08b"`,
    );
    await queryRunner.query(`DROP TABLE "second_factor_failures"`);
  }
}
