import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AbuseLimitsAndAudit1795626441053 implements MigrationInterface {
  name = 'AbuseLimitsAndAudit1795626441053';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "auth_events" ("id" uuid NOT NULL, "user_id" uuid, "type" character varying(32) NOT NULL, "ip" character varying(45) NOT NULL, "user_agent" character varying(256), "details" jsonb, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_ab929cc6084ffb3fd795bd983c0" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_auth_events_user_id_created_at" ON "auth_events"  ("user_id", "created_at") `,
    );
    await queryRunner.query(
      `CREATE TABLE "login_failures" ("email_hash" bytea NOT NULL, "failures" integer NOT NULL, "last_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL, "locked_until" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_7c8f0aa6bf7f7568dc3463d991d" PRIMARY KEY ("email_hash"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "rate_limit_counters" ("key" character varying(200) NOT NULL, "window_start" TIMESTAMP WITH TIME ZONE NOT NULL, "hits" integer NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_fff95af8f500fb050737753e12e" PRIMARY KEY ("key", "window_start"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_rate_limit_counters_expires_at" ON "rate_limit_counters"  ("expires_at") `,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."IDX_rate_limit_counters_expires_at"`);
    await queryRunner.query(`DROP TABLE "rate_limit_counters"`);
    await queryRunner.query(`DROP TABLE "login_failures"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_auth_events_user_id_created_at"`);
    await queryRunner.query(`DROP TABLE "auth_events"`);
  }
}
