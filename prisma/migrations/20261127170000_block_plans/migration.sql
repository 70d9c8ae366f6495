-- CreateEnum
CREATE TYPE "PlanBlockStatus" AS ENUM ('pending', 'created', 'failed', 'removed');

-- CreateTable
CREATE TABLE "block_plans" (
    "id" UUID NOT NULL,
    "owner" TEXT NOT NULL,
    "owner_name" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "targets" JSONB NOT NULL,
    "schedule" JSONB NOT NULL,
    "time_zone" TEXT NOT NULL,
    "conflicts" JSONB NOT NULL DEFAULT '[]',
    "total" INTEGER NOT NULL,
    "deleted_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "block_plans_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "plan_blocks" (
    "id" UUID NOT NULL,
    "plan_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "location_id" TEXT NOT NULL,
    "calendar_id" TEXT,
    "assigned_user_id" TEXT,
    "occurrence" TEXT NOT NULL,
    "wanted" BOOLEAN NOT NULL DEFAULT true,
    "start_time" TEXT NOT NULL,
    "end_time" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "block_slot_id" TEXT,
    "applied_start_time" TEXT,
    "applied_end_time" TEXT,
    "applied_title" TEXT,
    "status" "PlanBlockStatus" NOT NULL DEFAULT 'pending',
    "sent" BOOLEAN NOT NULL DEFAULT false,
    "failures" INTEGER NOT NULL DEFAULT 0,
    "started_at" TIMESTAMP(3),
    "lease_until" TIMESTAMP(3),
    "error_code" TEXT,
    "error_detail" TEXT,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "plan_blocks_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "block_plans_owner_created_at_idx" ON "block_plans"("owner", "created_at");

-- CreateIndex
CREATE INDEX "block_plans_created_at_idx" ON "block_plans"("created_at");

-- CreateIndex
CREATE INDEX "plan_blocks_plan_id_status_idx" ON "plan_blocks"("plan_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "plan_blocks_plan_id_key_key" ON "plan_blocks"("plan_id", "key");

-- AddForeignKey
ALTER TABLE "plan_blocks" ADD CONSTRAINT "plan_blocks_plan_id_fkey" FOREIGN KEY ("plan_id") REFERENCES "block_plans"("id") ON DELETE CASCADE ON UPDATE CASCADE;
