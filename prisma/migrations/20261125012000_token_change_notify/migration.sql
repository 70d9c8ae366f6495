-- Every process keeps the access tokens it read for a while; this tells them all, at commit, that
-- an installation's tokens or state changed (renewed, reinstalled, uninstalled, marked inactive),
-- whichever process or tool made the change.
CREATE FUNCTION notify_token_change() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('token_changes', TG_ARGV[0] || ':' || OLD.id);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER locations_token_change
  AFTER UPDATE OR DELETE ON "locations"
  FOR EACH ROW
  EXECUTE FUNCTION notify_token_change('location');

CREATE TRIGGER companies_token_change
  AFTER UPDATE OR DELETE ON "companies"
  FOR EACH ROW
  EXECUTE FUNCTION notify_token_change('company');
