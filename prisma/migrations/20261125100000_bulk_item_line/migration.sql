-- AlterTable
ALTER TABLE "bulk_items" ADD COLUMN     "line" INTEGER;
