import { randomBytes } from 'node:crypto';

export const TOOLSETS = ['apps', 'logs', 'deploy', 'backups', 'config'] as const;
export type Toolset = (typeof TOOLSETS)[number];

export const CONFIRM_MODES = ['auto', 'elicit', 'token', 'none'] as const;
export type ConfirmMode = (typeof CONFIRM_MODES)[number];

/** Everything the tool layer needs to know about how the server was started. */
export interface ServerConfig {
  readOnly: boolean;
  /** null = every toolset. */
  toolsets: ReadonlySet<Toolset> | null;
  confirmMode: ConfirmMode;
  /** Slugs or IDs whose writes always need the human dialog (on top of `live` and production-grade ones). */
  protectedEnvironments: readonly string[];
  /** Slugs or IDs (optionally `app/env`) that refuse every write. */
  readOnlyEnvironments: readonly string[];
  /** HMAC key for confirmation tokens; shared by replicas when configured. */
  confirmKey: Uint8Array;
  confirmTtlSeconds: number;
  /** Default wait budget for long-running operations, in seconds. */
  defaultWaitSeconds: number;
  /** How often long-running operations are polled, in milliseconds. */
  pollIntervalMs: number;
  /**
   * Hard cap on the log text one tool result carries, in bytes. A result holds the text twice (the text
   * block and the structured copy), so a whole result stays near twice this plus a little framing.
   */
  maxLogBytes: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function parseList(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function parseToolsets(value: string | undefined): ReadonlySet<Toolset> | null {
  const names = parseList(value);
  if (names.length === 0) return null;
  const out = new Set<Toolset>();
  for (const name of names) {
    if (!(TOOLSETS as readonly string[]).includes(name)) {
      throw new ConfigError(`Unknown toolset '${name}'. Valid toolsets: ${TOOLSETS.join(', ')}.`);
    }
    out.add(name as Toolset);
  }
  return out;
}

export function parseConfirmMode(value: string | undefined): ConfirmMode {
  const mode = (value ?? 'auto').trim() || 'auto';
  if (!(CONFIRM_MODES as readonly string[]).includes(mode)) {
    throw new ConfigError(`Unknown confirm mode '${mode}'. Valid modes: ${CONFIRM_MODES.join(', ')}.`);
  }
  return mode as ConfirmMode;
}

/** A hex or base64 key of at least 32 bytes, or a fresh random one. */
export function parseConfirmKey(value: string | undefined): Uint8Array {
  if (!value) return new Uint8Array(randomBytes(32));
  const trimmed = value.trim();
  const bytes = /^[0-9a-fA-F]+$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (bytes.length < 32) {
    throw new ConfigError(
      'DIVIO_MCP_CONFIRM_KEY must be at least 32 bytes (64 hex characters or 44 base64 characters). ' +
        'Generate one with: openssl rand -hex 32',
    );
  }
  return new Uint8Array(bytes);
}

export function defaultServerConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return {
    readOnly: false,
    toolsets: null,
    confirmMode: 'auto',
    protectedEnvironments: [],
    readOnlyEnvironments: [],
    confirmKey: new Uint8Array(randomBytes(32)),
    confirmTtlSeconds: 300,
    defaultWaitSeconds: 50,
    pollIntervalMs: 2000,
    maxLogBytes: 20_000,
    ...overrides,
  };
}
