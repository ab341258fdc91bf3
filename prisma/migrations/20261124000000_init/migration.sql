-- CreateEnum
CREATE TYPE "proposal_status" AS ENUM ('pending', 'pr_opened', 'pr_merged', 'rejected');

-- CreateEnum
CREATE TYPE "pr_state" AS ENUM ('open', 'closed', 'merged');

-- CreateTable
CREATE TABLE "config_repos" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" VARCHAR(128) NOT NULL,
    "provider" VARCHAR(32) NOT NULL,
    "repo_url" VARCHAR(2048) NOT NULL,
    "default_branch" VARCHAR(255) NOT NULL DEFAULT 'main',
    "pr_base_branch" VARCHAR(255) NOT NULL DEFAULT 'main',
    "auth_ref" VARCHAR(128) NOT NULL,
    "webhook_secret_ref" VARCHAR(128),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "config_repos_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "clusters" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" VARCHAR(128) NOT NULL,
    "config_repo_id" UUID,
    "config_path" VARCHAR(512),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "clusters_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "query_templates" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "cluster_id" UUID NOT NULL,
    "name" VARCHAR(128) NOT NULL,
    "declared_params" TEXT[],
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "query_templates_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "studies" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" VARCHAR(256) NOT NULL,
    "cluster_id" UUID NOT NULL,
    "template_id" UUID NOT NULL,
    "metric" VARCHAR(64) NOT NULL,
    "baseline_metric" DOUBLE PRECISION,
    "best_metric" DOUBLE PRECISION,
    "parameter_importance" JSONB,
    "suggested_followups" TEXT[],
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "studies_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "proposals" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "cluster_id" UUID NOT NULL,
    "template_id" UUID NOT NULL,
    "study_id" UUID,
    "config_diff" JSONB NOT NULL,
    "metric_delta" JSONB,
    "status" "proposal_status" NOT NULL DEFAULT 'pending',
    "pr_url" VARCHAR(2048),
    "pr_number" INTEGER,
    "pr_branch" VARCHAR(255),
    "pr_state" "pr_state",
    "pr_open_error" TEXT,
    "rejected_reason" VARCHAR(500),
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "proposals_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "config_repos_name_key" ON "config_repos"("name");

-- CreateIndex
CREATE INDEX "config_repos_created_at_id_idx" ON "config_repos"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "clusters_created_at_id_idx" ON "clusters"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "clusters_config_repo_id_idx" ON "clusters"("config_repo_id");

-- CreateIndex
CREATE INDEX "query_templates_created_at_id_idx" ON "query_templates"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "query_templates_cluster_id_idx" ON "query_templates"("cluster_id");

-- CreateIndex
CREATE INDEX "studies_created_at_id_idx" ON "studies"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "studies_cluster_id_idx" ON "studies"("cluster_id");

-- CreateIndex
CREATE INDEX "studies_template_id_idx" ON "studies"("template_id");

-- CreateIndex
CREATE INDEX "proposals_created_at_id_idx" ON "proposals"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "proposals_status_created_at_id_idx" ON "proposals"("status", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "proposals_cluster_id_created_at_id_idx" ON "proposals"("cluster_id", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "proposals_template_id_idx" ON "proposals"("template_id");

-- CreateIndex
CREATE INDEX "proposals_study_id_idx" ON "proposals"("study_id");

-- AddForeignKey
ALTER TABLE "clusters" ADD CONSTRAINT "clusters_config_repo_id_fkey" FOREIGN KEY ("config_repo_id") REFERENCES "config_repos"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "query_templates" ADD CONSTRAINT "query_templates_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "studies" ADD CONSTRAINT "studies_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "studies" ADD CONSTRAINT "studies_template_id_fkey" FOREIGN KEY ("template_id") REFERENCES "query_templates"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "proposals" ADD CONSTRAINT "proposals_cluster_id_fkey" FOREIGN KEY ("cluster_id") REFERENCES "clusters"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "proposals" ADD CONSTRAINT "proposals_template_id_fkey" FOREIGN KEY ("template_id") REFERENCES "query_templates"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "proposals" ADD CONSTRAINT "proposals_study_id_fkey" FOREIGN KEY ("study_id") REFERENCES "studies"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
