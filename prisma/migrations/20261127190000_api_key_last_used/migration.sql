-- When a stored key was last used (to the nearest few minutes), so an operator can tell a key in
-- use from one nobody needs any more before revoking it.
ALTER TABLE "api_keys" ADD COLUMN "last_used_at" TIMESTAMP(3);

-- Recording a use is not a change to the key: announcing it would make every process drop the
-- key from its cache each time it is used. Any other change is still announced.
DROP TRIGGER api_keys_change ON "api_keys";
CREATE TRIGGER api_keys_change
  AFTER UPDATE ON "api_keys"
  FOR EACH ROW
  WHEN ((to_jsonb(OLD) - 'last_used_at') IS DISTINCT FROM (to_jsonb(NEW) - 'last_used_at'))
  EXECUTE FUNCTION notify_api_key_change();
CREATE TRIGGER api_keys_delete
  AFTER DELETE ON "api_keys"
  FOR EACH ROW
  EXECUTE FUNCTION notify_api_key_change();
