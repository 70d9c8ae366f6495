-- A job or plan made under an Idempotency-Key remembers it, so a retry after a crash (the effect
-- committed, the answer never stored) finds what the first attempt made instead of making it again.
ALTER TABLE "bulk_jobs" ADD COLUMN "request_key" TEXT;
CREATE INDEX "bulk_jobs_request_key_idx" ON "bulk_jobs"("request_key");
ALTER TABLE "block_plans" ADD COLUMN "request_key" TEXT;
CREATE INDEX "block_plans_request_key_idx" ON "block_plans"("request_key");
