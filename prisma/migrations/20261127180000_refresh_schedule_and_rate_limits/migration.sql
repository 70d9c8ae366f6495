-- AlterTable
ALTER TABLE "companies" ADD COLUMN     "next_refresh_at" TIMESTAMP(3),
ADD COLUMN     "refresh_failing_since" TIMESTAMP(3),
ADD COLUMN     "refresh_failures" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "refresh_given_up_at" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "locations" ADD COLUMN     "next_refresh_at" TIMESTAMP(3),
ADD COLUMN     "refresh_failing_since" TIMESTAMP(3),
ADD COLUMN     "refresh_failures" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "refresh_given_up_at" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "highlevel_rate_limits" (
    "owner" TEXT NOT NULL,
    "sent" BIGINT[] DEFAULT ARRAY[]::BIGINT[],
    "paused_until" BIGINT NOT NULL DEFAULT 0,
    "day" INTEGER NOT NULL DEFAULT 0,
    "day_used" INTEGER NOT NULL DEFAULT 0,
    "daily_held_until" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "highlevel_rate_limits_pkey" PRIMARY KEY ("owner")
);

-- CreateIndex
CREATE INDEX "companies_status_next_refresh_at_idx" ON "companies"("status", "next_refresh_at");

-- CreateIndex
CREATE INDEX "locations_status_next_refresh_at_idx" ON "locations"("status", "next_refresh_at");

-- Every installation with a token is due a while before it expires (the refresher's default hour).
UPDATE "companies" SET "next_refresh_at" = COALESCE("token_expires_at" - interval '1 hour', timezone('UTC', now()))
 WHERE "status" IN ('active', 'inactive');
UPDATE "locations" SET "next_refresh_at" = COALESCE("token_expires_at" - interval '1 hour', timezone('UTC', now()))
 WHERE "status" IN ('active', 'inactive');

-- Cached tokens are dropped only when something a cache holds changes: the refresher's own
-- bookkeeping (next_refresh_at, failures) must not empty every process's cache.
DROP TRIGGER locations_token_change ON "locations";
DROP TRIGGER companies_token_change ON "companies";

CREATE TRIGGER locations_token_change
  AFTER UPDATE ON "locations"
  FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status
     OR OLD.access_token_enc IS DISTINCT FROM NEW.access_token_enc
     OR OLD.refresh_token_enc IS DISTINCT FROM NEW.refresh_token_enc
     OR OLD.token_expires_at IS DISTINCT FROM NEW.token_expires_at
     OR OLD.last_error IS DISTINCT FROM NEW.last_error
     OR OLD.company_id IS DISTINCT FROM NEW.company_id
     OR OLD.source IS DISTINCT FROM NEW.source)
  EXECUTE FUNCTION notify_token_change('location');

CREATE TRIGGER locations_token_delete
  AFTER DELETE ON "locations"
  FOR EACH ROW
  EXECUTE FUNCTION notify_token_change('location');

CREATE TRIGGER companies_token_change
  AFTER UPDATE ON "companies"
  FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status
     OR OLD.access_token_enc IS DISTINCT FROM NEW.access_token_enc
     OR OLD.refresh_token_enc IS DISTINCT FROM NEW.refresh_token_enc
     OR OLD.token_expires_at IS DISTINCT FROM NEW.token_expires_at
     OR OLD.last_error IS DISTINCT FROM NEW.last_error)
  EXECUTE FUNCTION notify_token_change('company');

CREATE TRIGGER companies_token_delete
  AFTER DELETE ON "companies"
  FOR EACH ROW
  EXECUTE FUNCTION notify_token_change('company');

-- HighLevel's limits per location or company, shared by every process of the app
-- (src/highlevel/rate-budget.ts). Grants up to p_wanted[i] calls to p_owners[i] now, if
--   * fewer than p_limit calls were granted to it in the last p_window_ms (a sliding window),
--   * fewer than p_daily today (UTC), and
--   * HighLevel has not said to stop (paused_until, daily_held_until).
-- Per owner it answers how many were granted; for the calls left waiting, in how many ms each
-- could go (the k-th when the k-th oldest grant leaves the window), or how long everything is
-- held and why ('burst' or 'daily'); and `at_ms`, the grant's time on PostgreSQL's clock. Every
-- process counts by that one clock, so the app hosts' clocks do not matter.
-- Rows are locked in owner order: two processes' batches never deadlock.
CREATE FUNCTION highlevel_rate_take(p_owners text[], p_wanted int[], p_limit int, p_window_ms int, p_daily int)
RETURNS TABLE (subject text, granted int, waits_ms int[], held_ms bigint, held_by text, at_ms bigint)
LANGUAGE plpgsql AS $$
DECLARE
  now_ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000);
  today int := floor(now_ms / 86400000.0);
  r record;
  live bigint[];
  used int;
  rest int;
BEGIN
  INSERT INTO highlevel_rate_limits (owner)
    SELECT x FROM unnest(p_owners) AS x ORDER BY x
    ON CONFLICT DO NOTHING;
  FOR r IN
    SELECT t.owner AS id, t.sent, t.paused_until, t.day, t.day_used, t.daily_held_until, w.wanted
      FROM highlevel_rate_limits t
      JOIN unnest(p_owners, p_wanted) AS w(id, wanted) ON w.id = t.owner
     ORDER BY t.owner
       FOR UPDATE OF t
  LOOP
    subject := r.id;
    at_ms := now_ms;
    granted := 0;
    waits_ms := '{}';
    held_ms := 0;
    held_by := NULL;
    used := CASE WHEN r.day = today THEN r.day_used ELSE 0 END;
    live := ARRAY(SELECT s FROM unnest(COALESCE(r.sent, '{}')) AS s WHERE s > now_ms - p_window_ms ORDER BY s);
    IF r.paused_until > now_ms THEN
      held_ms := r.paused_until - now_ms;
      held_by := 'burst';
    ELSIF r.daily_held_until > now_ms THEN
      held_ms := r.daily_held_until - now_ms;
      held_by := 'daily';
    ELSIF used >= p_daily THEN
      held_ms := (today + 1)::bigint * 86400000 - now_ms;
      held_by := 'daily';
    ELSE
      granted := least(r.wanted, greatest(p_limit - cardinality(live), 0), p_daily - used);
      IF granted > 0 THEN
        live := live || array_fill(now_ms, ARRAY[granted]);
        used := used + granted;
        UPDATE highlevel_rate_limits
           SET sent = live, day = today, day_used = used, updated_at = timezone('UTC', now())
         WHERE owner = r.id;
      END IF;
      rest := r.wanted - granted;
      IF rest > 0 AND used >= p_daily THEN
        held_ms := (today + 1)::bigint * 86400000 - now_ms;
        held_by := 'daily';
      ELSIF rest > 0 THEN
        waits_ms := ARRAY(SELECT (s + p_window_ms - now_ms)::int FROM unnest(live) WITH ORDINALITY AS q(s, i)
                           WHERE i <= rest ORDER BY i);
      END IF;
    END IF;
    RETURN NEXT;
  END LOOP;
END;
$$;

-- What HighLevel's answer headers said about one owner: hold every process's calls for
-- p_pause_ms (X-RateLimit-Remaining: 0, or a 429), count at least p_day_used calls today
-- (X-RateLimit-Limit-Daily minus X-RateLimit-Daily-Remaining), hold for p_daily_hold_ms (none left today).
CREATE FUNCTION highlevel_rate_note(p_owner text, p_pause_ms int, p_day_used int, p_daily_hold_ms int)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  now_ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000);
  today int := floor(now_ms / 86400000.0);
BEGIN
  INSERT INTO highlevel_rate_limits AS t (owner, paused_until, day, day_used, daily_held_until)
  VALUES (p_owner, now_ms + p_pause_ms, today, p_day_used, now_ms + p_daily_hold_ms)
  ON CONFLICT (owner) DO UPDATE SET
    paused_until = greatest(t.paused_until, EXCLUDED.paused_until),
    day_used = CASE WHEN t.day = today THEN greatest(t.day_used, EXCLUDED.day_used) ELSE EXCLUDED.day_used END,
    day = today,
    daily_held_until = greatest(t.daily_held_until, EXCLUDED.daily_held_until),
    updated_at = timezone('UTC', now());
END;
$$;
