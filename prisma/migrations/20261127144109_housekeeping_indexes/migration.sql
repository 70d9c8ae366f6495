-- AlterTable
ALTER TABLE "appointment_states" ADD COLUMN     "ends_at" TIMESTAMP(3);

-- CreateIndex
CREATE INDEX "appointment_states_updated_at_idx" ON "appointment_states"("updated_at");

-- CreateIndex
CREATE INDEX "bulk_items_job_id_status_idx" ON "bulk_items"("job_id", "status");

-- CreateIndex
CREATE INDEX "mirrored_blocks_status_updated_at_idx" ON "mirrored_blocks"("status", "updated_at");

-- CreateIndex
CREATE INDEX "oauth_states_expires_at_idx" ON "oauth_states"("expires_at");
