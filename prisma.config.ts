// Prisma CLI configuration (Prisma 7 keeps the datasource URL out of schema.prisma). The service
// itself never reads this file: it builds its client with a driver adapter (db/database.ts).
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  // `prisma generate` needs no URL; `prisma migrate deploy` (where its engine can be downloaded)
  // reads DATABASE_URL.
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost/unused' },
});
