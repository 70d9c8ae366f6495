-- Every process keeps the stored API keys it found valid; this tells them all, at commit, that a
-- key was revoked, changed or deleted, so a revocation takes effect at once everywhere.
CREATE FUNCTION notify_api_key_change() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('api_key_changes', OLD.id::text);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER api_keys_change
  AFTER UPDATE OR DELETE ON "api_keys"
  FOR EACH ROW
  EXECUTE FUNCTION notify_api_key_change();
