-- AlterTable: a config repo lives on GitHub (the default) or on Gitea/Forgejo (issue 24).
ALTER TABLE "config_repos" ALTER COLUMN "provider" SET DEFAULT 'github';
ALTER TABLE "config_repos" ADD CONSTRAINT "config_repos_provider_check" CHECK ("provider" IN ('github', 'gitea'));
