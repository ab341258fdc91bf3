// `npm run config-docs`: rewrites docs/configuration.md from the settings table.
import { writeFile } from 'node:fs/promises';
import { renderConfigDocs } from '../domain/config-docs.js';

await writeFile(new URL('../docs/configuration.md', import.meta.url), renderConfigDocs());
