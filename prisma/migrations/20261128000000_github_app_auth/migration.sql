-- AlterTable
ALTER TABLE "config_repos" ADD COLUMN     "app_id" INTEGER,
ADD COLUMN     "app_installation_id" INTEGER,
ADD COLUMN     "app_private_key_ref" VARCHAR(128),
ALTER COLUMN "auth_ref" DROP NOT NULL;

-- AlterTable
ALTER TABLE "config_repos" ADD COLUMN     "pr_verified_commits" BOOLEAN NOT NULL DEFAULT false;
