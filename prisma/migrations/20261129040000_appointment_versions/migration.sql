-- Deliveries for one appointment are applied in the order HighLevel changed it (its dateUpdated),
-- not the order they arrived; the delivery last applied is remembered by id.
ALTER TABLE "appointment_states" ADD COLUMN "applied_event_id" TEXT;
ALTER TABLE "appointment_states" ADD COLUMN "applied_version" TIMESTAMPTZ(3);
