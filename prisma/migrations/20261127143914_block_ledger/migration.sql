-- CreateEnum
CREATE TYPE "BlockOrigin" AS ENUM ('api', 'page', 'bulk', 'trigger', 'rule', 'plan');

-- AlterEnum
ALTER TYPE "BulkItemStatus" ADD VALUE 'skipped';

-- CreateTable
CREATE TABLE "blocks" (
    "id" UUID NOT NULL,
    "block_slot_id" TEXT NOT NULL,
    "location_id" TEXT NOT NULL,
    "calendar_id" TEXT,
    "assigned_user_id" TEXT,
    "start_at" TIMESTAMPTZ(3) NOT NULL,
    "end_at" TIMESTAMPTZ(3) NOT NULL,
    "title" TEXT NOT NULL DEFAULT '',
    "origin" "BlockOrigin" NOT NULL,
    "origin_id" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "deleted_at" TIMESTAMP(3),

    CONSTRAINT "blocks_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "blocks_block_slot_id_key" ON "blocks"("block_slot_id");

-- CreateIndex
CREATE INDEX "blocks_location_id_start_at_idx" ON "blocks"("location_id", "start_at");

-- CreateIndex
CREATE INDEX "blocks_origin_id_idx" ON "blocks"("origin_id");
