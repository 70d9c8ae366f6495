-- CreateEnum
CREATE TYPE "InstallKind" AS ENUM ('company', 'location');

-- AlterEnum
ALTER TYPE "InstallStatus" ADD VALUE 'connecting';

-- CreateTable
CREATE TABLE "installs" (
    "id" TEXT NOT NULL,
    "kind" "InstallKind" NOT NULL,
    "company_id" TEXT,
    "location_id" TEXT,
    "origin" TEXT NOT NULL DEFAULT 'callback',
    "locations_known_at" TIMESTAMP(3),
    "last_error" TEXT,
    "started_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "installs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "install_locations" (
    "install_id" TEXT NOT NULL,
    "location_id" TEXT NOT NULL,

    CONSTRAINT "install_locations_pkey" PRIMARY KEY ("install_id","location_id")
);

-- CreateTable
CREATE TABLE "location_mints" (
    "location_id" TEXT NOT NULL,
    "company_id" TEXT NOT NULL,
    "lease_until" TIMESTAMP(3),
    "claim" TEXT,
    "failures" INTEGER NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "location_mints_pkey" PRIMARY KEY ("location_id")
);

-- CreateIndex
CREATE INDEX "installs_company_id_started_at_idx" ON "installs"("company_id", "started_at");

-- CreateIndex
CREATE INDEX "install_locations_location_id_idx" ON "install_locations"("location_id");

-- AddForeignKey
ALTER TABLE "install_locations" ADD CONSTRAINT "install_locations_install_id_fkey" FOREIGN KEY ("install_id") REFERENCES "installs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
