-- Plans and bulk jobs belong to where they act, not to the key that made them: every key of the
-- agency (or of the sub-account) sees them, and rotating a key no longer hides them.
ALTER TABLE "block_plans" ADD COLUMN "company_id" TEXT, ADD COLUMN "location_id" TEXT;
ALTER TABLE "bulk_jobs" ADD COLUMN "company_id" TEXT, ADD COLUMN "location_id" TEXT;

DROP INDEX "block_plans_owner_created_at_idx";
CREATE INDEX "block_plans_company_id_created_at_idx" ON "block_plans"("company_id", "created_at");
CREATE INDEX "block_plans_location_id_created_at_idx" ON "block_plans"("location_id", "created_at");
CREATE INDEX "bulk_jobs_company_id_created_at_idx" ON "bulk_jobs"("company_id", "created_at");
CREATE INDEX "bulk_jobs_location_id_created_at_idx" ON "bulk_jobs"("location_id", "created_at");

-- Existing plans: the one sub-account and the one agency of every block they ever held.
UPDATE "block_plans" p
SET "location_id" = t.location_id, "company_id" = t.company_id
FROM (
  SELECT b.plan_id,
         CASE WHEN count(DISTINCT b.location_id) = 1 THEN min(b.location_id) END AS location_id,
         CASE WHEN count(DISTINCT l.company_id) = 1 AND count(l.company_id) = count(*) THEN min(l.company_id) END
           AS company_id
  FROM (SELECT DISTINCT plan_id, location_id FROM "plan_blocks") b
  LEFT JOIN "locations" l ON l.id = b.location_id
  GROUP BY b.plan_id
) t
WHERE p.id = t.plan_id;

-- Existing bulk jobs: the same over every location their items name (refused ones included). A job
-- made with a scoped key keeps that key's scope: every item it holds was that key's to send.
UPDATE "bulk_jobs" j
SET "location_id" = t.location_id, "company_id" = t.company_id
FROM (
  SELECT i.job_id,
         CASE WHEN count(*) = 1 THEN min(i.location_id) END AS location_id,
         CASE WHEN count(DISTINCT l.company_id) = 1 AND count(l.company_id) = count(*) THEN min(l.company_id) END
           AS company_id
  FROM (SELECT DISTINCT job_id, location_id FROM "bulk_items") i
  LEFT JOIN "locations" l ON l.id = i.location_id
  GROUP BY i.job_id
) t
WHERE j.id = t.job_id;

UPDATE "bulk_jobs" j
SET "company_id" = k.company_id, "location_id" = NULL
FROM "api_keys" k
WHERE k.id::text = j.owner AND k.scope = 'company';

UPDATE "bulk_jobs" j
SET "location_id" = k.location_id, "company_id" = (SELECT l.company_id FROM "locations" l WHERE l.id = k.location_id)
FROM "api_keys" k
WHERE k.id::text = j.owner AND k.scope = 'location';
