-- CreateEnum
CREATE TYPE "AuditActorKind" AS ENUM ('api_key', 'user', 'webhook', 'rule', 'plan', 'bulk_job', 'cli');

-- CreateEnum
CREATE TYPE "AuditOutcome" AS ENUM ('ok', 'failed');

-- CreateTable
CREATE TABLE "audit_events" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor_kind" "AuditActorKind" NOT NULL,
    "actor_id" TEXT,
    "actor_name" TEXT,
    "action" TEXT NOT NULL,
    "company_id" TEXT,
    "location_id" TEXT,
    "block_slot_id" TEXT,
    "calendar_id" TEXT,
    "assigned_user_id" TEXT,
    "subject_id" TEXT,
    "outcome" "AuditOutcome" NOT NULL DEFAULT 'ok',
    "error_code" TEXT,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "audit_events_at_idx" ON "audit_events"("at");

-- CreateIndex
CREATE INDEX "audit_events_location_id_id_idx" ON "audit_events"("location_id", "id");

-- CreateIndex
CREATE INDEX "audit_events_company_id_id_idx" ON "audit_events"("company_id", "id");
