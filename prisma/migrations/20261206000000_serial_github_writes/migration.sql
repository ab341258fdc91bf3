-- AlterTable
ALTER TABLE "github_pacing" ADD COLUMN     "in_flight_until" TIMESTAMPTZ(6);
