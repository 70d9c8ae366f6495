-- AlterTable
ALTER TABLE "locations" ADD COLUMN     "details_at" TIMESTAMP(3),
ADD COLUMN     "time_zone" TEXT;
