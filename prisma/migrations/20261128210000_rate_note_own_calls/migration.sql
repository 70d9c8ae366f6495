-- X-RateLimit-Remaining 0 that the app's own calls account for (DECISIONS #47): when at least
-- p_own_max (HighLevel's X-RateLimit-Max) of the owner's calls went within HighLevel's last
-- p_interval_ms, its zero holds no call of anyone else, and the shared window alone decides when
-- the next may go: no pause is recorded. Counted are the grants stamped in that interval up to now
-- (a call goes after its grant, so HighLevel counts each of them) and the caller's leased calls
-- already sent whose stamps are still ahead (p_ahead_*: sent, yet counted only from their stamp);
-- other leased grants ahead may not have been sent and are not counted. Otherwise (calls the app
-- did not make share the limit) the owner is paused as before. A 429 passes p_own_max 0 and always
-- pauses. Returns whether the owner was paused.
CREATE FUNCTION highlevel_rate_note(p_owner text, p_pause_ms int, p_day_used int, p_daily_hold_ms int,
                                    p_own_max int, p_interval_ms int, p_ahead_stamps bigint[], p_ahead_counts int[])
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  now_ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000);
  own bigint := 0;
BEGIN
  IF p_pause_ms > 0 AND p_own_max > 0 THEN
    SELECT count(*) INTO own
      FROM highlevel_rate_limits t, unnest(COALESCE(t.sent, '{}')) AS s
     WHERE t.owner = p_owner AND s > now_ms - p_interval_ms AND s <= now_ms;
    own := own + (SELECT COALESCE(sum(a.n), 0)
                    FROM unnest(COALESCE(p_ahead_stamps, '{}'), COALESCE(p_ahead_counts, '{}')) AS a(s, n)
                   WHERE a.s > now_ms);
    IF own >= p_own_max THEN
      p_pause_ms := 0;
    END IF;
  END IF;
  IF p_pause_ms > 0 OR p_day_used > 0 OR p_daily_hold_ms > 0 THEN
    PERFORM highlevel_rate_note(p_owner, p_pause_ms, p_day_used, p_daily_hold_ms);
  END IF;
  RETURN p_pause_ms > 0;
END;
$$;
