// Where Temporal is: TEMPORAL_ADDRESS when set, else the embedded dev server of temporal-dev.yaml.
import type { Config } from '../domain/config.js';
import { readDevServerSettings } from './dev-server.js';

export async function resolveTemporalAddress(config: Config): Promise<string> {
  if (config.temporalAddress !== undefined) return config.temporalAddress;
  const settings = await readDevServerSettings(config.temporalDevConfig);
  return `${settings.ip}:${settings.port}`;
}
