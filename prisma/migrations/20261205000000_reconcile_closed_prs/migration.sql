-- AlterTable
ALTER TABLE "proposals" ADD COLUMN     "pr_etag" VARCHAR(256);
