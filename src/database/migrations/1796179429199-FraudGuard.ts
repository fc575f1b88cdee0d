import type { MigrationInterface, QueryRunner } from 'typeorm';

export class FraudGuard1796179429199 implements MigrationInterface {
  name = 'FraudGuard1796179429199';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "destination_pauses" ("channel" character varying(8) NOT NULL, "scope" character varying(8) NOT NULL, "key" character varying(16) NOT NULL, "until" TIMESTAMP WITH TIME ZONE NOT NULL, "sent" integer NOT NULL, "verified" integer NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_a6718df09834e8ca322fe6090af" PRIMARY KEY ("channel", "scope", "key"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "destination_stats" ("channel" character varying(8) NOT NULL, "scope" character varying(8) NOT NULL, "key" character varying(16) NOT NULL, "minute" TIMESTAMP WITH TIME ZONE NOT NULL, "sent" integer NOT NULL DEFAULT '0', "verified" integer NOT NULL DEFAULT '0', CONSTRAINT "PK_dd18dc8e36413b069c41773b691" PRIMARY KEY ("channel", "scope", "key", "minute"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_destination_stats_minute" ON "destination_stats"  ("minute") `,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."IDX_destination_stats_minute"`);
    await queryRunner.query(`DROP TABLE "destination_stats"`);
    await queryRunner.query(`DROP TABLE "destination_pauses"`);
  }
}
