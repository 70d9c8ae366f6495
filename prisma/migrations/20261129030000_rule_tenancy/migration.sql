-- Blocking rules belong to where they act, like plans and bulk jobs: every key of the agency sees
-- and deletes them, and rotating a key no longer leaves a rule firing that no agency key can remove.
ALTER TABLE "blocking_rules" ADD COLUMN "company_id" TEXT, ADD COLUMN "location_id" TEXT;
CREATE INDEX "blocking_rules_company_id_idx" ON "blocking_rules"("company_id");
CREATE INDEX "blocking_rules_location_id_idx" ON "blocking_rules"("location_id");

-- Existing rules: the one sub-account and the one agency of their source and targets.
UPDATE "blocking_rules" r
SET "location_id" = t.location_id, "company_id" = t.company_id
FROM (
  SELECT e.rule_id,
         CASE WHEN count(*) = 1 THEN min(e.location_id) END AS location_id,
         CASE WHEN count(DISTINCT l.company_id) = 1 AND count(l.company_id) = count(*) THEN min(l.company_id) END
           AS company_id
  FROM (
    SELECT DISTINCT rule_id, location_id FROM (
      SELECT id AS rule_id, source_location_id AS location_id FROM "blocking_rules"
      UNION ALL
      SELECT b.id, target->>'locationId' FROM "blocking_rules" b, jsonb_array_elements(b.targets) AS target
    ) every_endpoint
  ) e
  LEFT JOIN "locations" l ON l.id = e.location_id
  GROUP BY e.rule_id
) t
WHERE r.id = t.rule_id;
