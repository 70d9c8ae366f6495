-- CreateEnum
CREATE TYPE "BulkItemStatus" AS ENUM ('pending', 'succeeded', 'failed', 'cancelled');

-- CreateTable
CREATE TABLE "bulk_jobs" (
    "id" UUID NOT NULL,
    "owner" TEXT NOT NULL,
    "source" TEXT NOT NULL DEFAULT 'api',
    "total" INTEGER NOT NULL,
    "cancelled_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "bulk_jobs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "bulk_items" (
    "job_id" UUID NOT NULL,
    "index" INTEGER NOT NULL,
    "location_id" TEXT NOT NULL,
    "calendar_id" TEXT,
    "assigned_user_id" TEXT,
    "start_time" TEXT NOT NULL,
    "end_time" TEXT NOT NULL,
    "title" TEXT,
    "status" "BulkItemStatus" NOT NULL DEFAULT 'pending',
    "sent" BOOLEAN NOT NULL DEFAULT false,
    "failures" INTEGER NOT NULL DEFAULT 0,
    "started_at" TIMESTAMP(3),
    "lease_until" TIMESTAMP(3),
    "block_slot_id" TEXT,
    "error_code" TEXT,
    "error_detail" TEXT,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "bulk_items_pkey" PRIMARY KEY ("job_id","index")
);

-- CreateIndex
CREATE INDEX "bulk_jobs_created_at_idx" ON "bulk_jobs"("created_at");

-- CreateIndex
CREATE INDEX "bulk_items_location_id_status_idx" ON "bulk_items"("location_id", "status");

-- AddForeignKey
ALTER TABLE "bulk_items" ADD CONSTRAINT "bulk_items_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "bulk_jobs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
