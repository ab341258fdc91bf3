-- AlterTable
ALTER TABLE "webhook_deliveries" ADD COLUMN     "body_digest" VARCHAR(64);

-- CreateIndex
CREATE UNIQUE INDEX "query_templates_cluster_id_name_key" ON "query_templates"("cluster_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "webhook_deliveries_body_digest_key" ON "webhook_deliveries"("body_digest");
