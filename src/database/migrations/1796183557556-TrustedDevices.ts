import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TrustedDevices1796183557556 implements MigrationInterface {
  name = 'TrustedDevices1796183557556';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "trusted_devices" ("id" uuid NOT NULL, "user_id" uuid NOT NULL, "token_hash" bytea NOT NULL, "user_agent" character varying(256), "second_factor_at" TIMESTAMP WITH TIME ZONE NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_used_at" TIMESTAMP WITH TIME ZONE, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_bc545fd72c357ff2edc8bbc7deb" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_trusted_devices_user_id" ON "trusted_devices"  ("user_id") `);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_trusted_devices_token_hash" ON "trusted_devices"  ("token_hash") `,
    );
    await queryRunner.query(`ALTER TABLE "sessions" ADD "device_id" uuid`);
    await queryRunner.query(`CREATE INDEX "IDX_sessions_device_id" ON "sessions" ("device_id") `);
    await queryRunner.query(
      `ALTER TABLE "trusted_devices" ADD CONSTRAINT "FK_d80738022e4cedca17a9fc25982" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "sessions" ADD CONSTRAINT "FK_97207844c19e5c27d33a07f67c0" FOREIGN KEY ("device_id") REFERENCES "trusted_devices"("id") ON DELETE SET NULL ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "sessions" DROP CONSTRAINT "FK_97207844c19e5c27d33a07f67c0"`);
    await queryRunner.query(`ALTER TABLE "trusted_devices" DROP CONSTRAINT "FK_d80738022e4cedca17a9fc25982"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_sessions_device_id"`);
    await queryRunner.query(`ALTER TABLE "sessions" DROP COLUMN "device_id"`);
    await queryRunner.query(`DROP INDEX "public"."UQ_trusted_devices_token_hash"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_trusted_devices_user_id"`);
    await queryRunner.query(`DROP TABLE "trusted_devices"`);
  }
}
