-- Leases: with the calls a process asks for now, it may ask for `p_extra[i]` more, to spend by
-- itself over the next few seconds without a round trip (src/highlevel/pacer.ts). A leased call
-- can go up to p_lease_ms after the grant, so it is stamped p_lease_ms later than an immediate
-- one and counts that much longer: HighLevel's window still never sees more than p_limit calls.
-- Leases are only given while the owner's window (and its day) stay at most half used with
-- them: an owner near its limit gets exact grants, as before. `leased` says how many were given.
CREATE FUNCTION highlevel_rate_take(p_owners text[], p_wanted int[], p_limit int, p_window_ms int, p_daily int,
                                    p_extra int[], p_lease_ms int)
RETURNS TABLE (subject text, granted int, leased int, waits_ms int[], held_ms bigint, held_by text, at_ms bigint)
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
    SELECT t.owner AS id, t.sent, t.paused_until, t.day, t.day_used, t.daily_held_until, w.wanted, w.extra
      FROM highlevel_rate_limits t
      JOIN unnest(p_owners, p_wanted, p_extra) AS w(id, wanted, extra) ON w.id = t.owner
     ORDER BY t.owner
       FOR UPDATE OF t
  LOOP
    subject := r.id;
    at_ms := now_ms;
    granted := 0;
    leased := 0;
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
      IF granted = r.wanted AND COALESCE(r.extra, 0) > 0 THEN
        leased := greatest(least(r.extra, p_limit / 2 - cardinality(live) - granted,
                                 p_daily / 2 - used - granted), 0);
      END IF;
      IF granted + leased > 0 THEN
        live := live || array_fill(now_ms, ARRAY[granted]) || array_fill(now_ms + p_lease_ms, ARRAY[leased]);
        used := used + granted + leased;
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

-- The five-argument form is what a process of the previous version calls during a rolling
-- upgrade: the same grants, without leases.
CREATE OR REPLACE FUNCTION highlevel_rate_take(p_owners text[], p_wanted int[], p_limit int, p_window_ms int, p_daily int)
RETURNS TABLE (subject text, granted int, waits_ms int[], held_ms bigint, held_by text, at_ms bigint)
LANGUAGE sql AS $$
  SELECT t.subject, t.granted, t.waits_ms, t.held_ms, t.held_by, t.at_ms
    FROM highlevel_rate_take(p_owners, p_wanted, p_limit, p_window_ms, p_daily,
                             array_fill(0, ARRAY[cardinality(p_owners)]), 0) AS t;
$$;

-- Gives back leased calls a process did not spend (its lease ran out, or it stopped): up to
-- p_counts[i] of the grants stamped p_stamps[i] leave owner p_owners[i]'s window, and its day's
-- count if they were granted on day p_days[i]. Only calls never sent are given back.
CREATE FUNCTION highlevel_rate_refund(p_owners text[], p_stamps bigint[], p_counts int[], p_days int[])
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  r record;
  cur bigint[];
  kept bigint[];
  given int;
BEGIN
  FOR r IN
    SELECT t.owner AS id, w.stamp, w.n, w.granted_day
      FROM highlevel_rate_limits t
      JOIN unnest(p_owners, p_stamps, p_counts, p_days) AS w(id, stamp, n, granted_day) ON w.id = t.owner
     ORDER BY t.owner
       FOR UPDATE OF t
  LOOP
    -- Read again: an owner named twice sees its first refund.
    SELECT COALESCE(t.sent, '{}') INTO cur FROM highlevel_rate_limits t WHERE t.owner = r.id;
    kept := ARRAY(
      SELECT s FROM (SELECT s, row_number() OVER (PARTITION BY s = r.stamp) AS k FROM unnest(cur) AS s) AS q
       WHERE s <> r.stamp OR k > r.n ORDER BY s);
    given := cardinality(cur) - cardinality(kept);
    IF given > 0 THEN
      UPDATE highlevel_rate_limits
         SET sent = kept,
             day_used = CASE WHEN day = r.granted_day THEN greatest(day_used - given, 0) ELSE day_used END,
             updated_at = timezone('UTC', now())
       WHERE owner = r.id;
    END IF;
  END LOOP;
END;
$$;
