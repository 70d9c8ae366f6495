-- DropIndex
DROP INDEX "locations_status_idx";

-- AlterTable
ALTER TABLE "companies" ADD COLUMN     "last_refreshed_at" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "locations" ADD COLUMN     "last_refreshed_at" TIMESTAMP(3);

-- CreateIndex
CREATE INDEX "companies_status_token_expires_at_idx" ON "companies"("status", "token_expires_at");

-- CreateIndex
CREATE INDEX "locations_status_token_expires_at_idx" ON "locations"("status", "token_expires_at");
