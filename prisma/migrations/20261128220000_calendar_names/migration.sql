-- Calendar names as HighLevel last listed them, so the console names a calendar instead of showing its id.
CREATE TABLE "calendars" (
    "id" TEXT NOT NULL,
    "location_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "seen_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "calendars_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "calendars_location_id_idx" ON "calendars"("location_id");

ALTER TABLE "calendars" ADD CONSTRAINT "calendars_location_id_fkey" FOREIGN KEY ("location_id") REFERENCES "locations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
