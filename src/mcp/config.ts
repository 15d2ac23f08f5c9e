import { createHmac, randomBytes } from 'node:crypto';

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
  /** Policy entries (see parsePolicyList) whose writes always need the human dialog (on top of `live` and production-grade ones). */
  protectedEnvironments: readonly string[];
  /** Policy entries (see parsePolicyList) that refuse every write. */
  readOnlyEnvironments: readonly string[];
  /** HMAC key for confirmation tokens; shared by replicas when configured. */
  confirmKey: Uint8Array;
  /** HMAC key for list cursors; derived from the confirmation key unless set on its own, so replicas share it. */
  cursorKey: Uint8Array;
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

/** A hex or base64 key of at least 32 bytes (from the variable `name`), or a fresh random one. */
function parseKey(name: string, value: string | undefined): Uint8Array {
  if (!value) return new Uint8Array(randomBytes(32));
  const trimmed = value.trim();
  const bytes = /^[0-9a-fA-F]+$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (bytes.length < 32) {
    throw new ConfigError(
      `${name} must be at least 32 bytes (64 hex characters or 44 base64 characters). ` +
        'Generate one with: openssl rand -hex 32',
    );
  }
  return new Uint8Array(bytes);
}

export function parseConfirmKey(value: string | undefined): Uint8Array {
  return parseKey('DIVIO_MCP_CONFIRM_KEY', value);
}

/**
 * The cursor key: DIVIO_MCP_CURSOR_KEY when set, otherwise derived from the confirmation key. Replicas that
 * share the confirmation key therefore accept each other's cursors, and a cursor key never reveals the
 * confirmation key it came from.
 */
export function parseCursorKey(value: string | undefined, confirmKey: Uint8Array): Uint8Array {
  if (value) return parseKey('DIVIO_MCP_CURSOR_KEY', value);
  return new Uint8Array(createHmac('sha256', confirmKey).update('divio-mcp cursor key v1').digest());
}

/** What a policy entry may be; repeated in every error about one. */
export const POLICY_ENTRY_FORMS =
  'an environment slug (live: that environment in every application), app/environment (shop/live; each part a slug or an ID), or an environment ID';

// Slugs are `^[-a-zA-Z0-9_]+$` (CreateEnvironment in the API reference); IDs are letters, digits and `-`.
const POLICY_PART = /^[A-Za-z0-9_-]{1,255}$/;

/** Quoted, with anything outside printable ASCII spelled as an escape, so the message shows exactly what was typed. */
function visible(text: string): string {
  return JSON.stringify(text).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Why an entry is not a policy entry, with the fix; null when it is one. */
function policyEntryProblem(entry: string): string | null {
  const parts = entry.split('/');
  if (parts.length <= 2 && parts.every((p) => POLICY_PART.test(p))) return null;
  if (/["'`]/.test(entry))
    return 'remove the quotes (docker --env-file and some shells keep them as part of the value)';
  if (/[;|]/.test(entry)) return 'separate entries with commas only';
  if (/\s/.test(entry)) return 'remove the spaces inside it (entries are separated by commas)';
  if (entry.startsWith('/') || entry.endsWith('/')) return 'remove the leading or trailing slash';
  if (parts.length > 2) return 'use at most one slash, between the application and the environment';
  return 'it contains characters no slug or ID has';
}

/**
 * A comma-separated policy list (`--read-only-environments`, `--protected-environments`): entries are
 * trimmed, and each must be a slug, `app/slug` or an ID. A misspelled entry would silently protect nothing,
 * so anything else refuses the start. Empty entries (`a,,b`, a trailing comma) are dropped with a notice.
 */
export function parsePolicyList(
  source: string,
  value: string | undefined,
): { entries: string[]; notice: string | null } {
  if (!value || value.trim() === '') return { entries: [], notice: null };
  const raw = value.split(',').map((s) => s.trim());
  const entries = raw.filter((s) => s.length > 0);
  for (const entry of entries) {
    const problem = policyEntryProblem(entry);
    if (problem) {
      throw new ConfigError(
        `${source}: the entry ${visible(entry.slice(0, 100))} is not valid: ${problem}. Each entry is ${POLICY_ENTRY_FORMS}, separated by commas.`,
      );
    }
  }
  const empty = raw.length - entries.length;
  return {
    entries,
    notice:
      empty > 0
        ? `${source}: ignored ${empty} empty ${empty === 1 ? 'entry' : 'entries'} (two commas in a row, or one at the start or end).`
        : null,
  };
}

export function defaultServerConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return {
    readOnly: false,
    toolsets: null,
    confirmMode: 'auto',
    protectedEnvironments: [],
    readOnlyEnvironments: [],
    confirmKey: new Uint8Array(randomBytes(32)),
    cursorKey: new Uint8Array(randomBytes(32)),
    confirmTtlSeconds: 300,
    defaultWaitSeconds: 50,
    pollIntervalMs: 2000,
    maxLogBytes: 20_000,
    ...overrides,
  };
}
