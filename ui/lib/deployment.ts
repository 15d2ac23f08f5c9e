import type { Json } from './bridge.js';
import { num, str } from './format.js';

/** A deployment as the views show it, read from a tool's structured result. */
export interface Deployment {
  uuid: string;
  status: string | null;
  success: boolean | null;
  percent: number | null;
  started_at: string | null;
  ended_at: string | null;
  git_commit: string | null;
}

/** Reads a deployment summary out of a structured result; null when it is absent or has no ID. */
export function toDeployment(value: unknown): Deployment | null {
  if (!value || typeof value !== 'object') return null;
  const d = value as Json;
  const uuid = str(d['uuid']);
  if (!uuid) return null;
  return {
    uuid,
    status: str(d['status']),
    success: typeof d['success'] === 'boolean' ? d['success'] : null,
    percent: num(d['percent']),
    started_at: str(d['started_at']),
    ended_at: str(d['ended_at']),
    git_commit: str(d['git_commit']),
  };
}
