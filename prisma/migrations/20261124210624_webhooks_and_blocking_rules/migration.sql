-- CreateEnum
CREATE TYPE "WebhookStatus" AS ENUM ('received', 'processed', 'ignored', 'failed');

-- CreateEnum
CREATE TYPE "MirrorStatus" AS ENUM ('creating', 'active', 'deleted', 'failed');

-- CreateTable
CREATE TABLE "webhook_events" (
    "id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "location_id" TEXT,
    "company_id" TEXT,
    "payload" JSONB NOT NULL,
    "status" "WebhookStatus" NOT NULL DEFAULT 'received',
    "outcome" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "received_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processed_at" TIMESTAMP(3),

    CONSTRAINT "webhook_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "blocking_rules" (
    "id" UUID NOT NULL,
    "owner" TEXT NOT NULL,
    "name" TEXT,
    "source_location_id" TEXT NOT NULL,
    "source_calendar_id" TEXT,
    "source_user_id" TEXT,
    "targets" JSONB NOT NULL,
    "title" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "blocking_rules_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "appointment_states" (
    "id" TEXT NOT NULL,
    "location_id" TEXT NOT NULL,
    "cancelled" BOOLEAN NOT NULL DEFAULT false,
    "applied_at" TIMESTAMP(3),
    "lease_until" TIMESTAMP(3),
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "appointment_states_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "mirrored_blocks" (
    "appointment_id" TEXT NOT NULL,
    "rule_id" UUID NOT NULL,
    "target_index" INTEGER NOT NULL,
    "location_id" TEXT NOT NULL,
    "calendar_id" TEXT,
    "assigned_user_id" TEXT,
    "title" TEXT NOT NULL,
    "start_time" TEXT NOT NULL,
    "end_time" TEXT NOT NULL,
    "block_slot_id" TEXT,
    "status" "MirrorStatus" NOT NULL DEFAULT 'creating',
    "last_error" TEXT,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "mirrored_blocks_pkey" PRIMARY KEY ("appointment_id","rule_id","target_index")
);

-- CreateIndex
CREATE INDEX "webhook_events_received_at_idx" ON "webhook_events"("received_at");

-- CreateIndex
CREATE INDEX "webhook_events_type_location_id_idx" ON "webhook_events"("type", "location_id");

-- CreateIndex
CREATE INDEX "webhook_events_type_company_id_idx" ON "webhook_events"("type", "company_id");

-- CreateIndex
CREATE INDEX "blocking_rules_source_location_id_idx" ON "blocking_rules"("source_location_id");

-- CreateIndex
CREATE INDEX "mirrored_blocks_block_slot_id_idx" ON "mirrored_blocks"("block_slot_id");
