import { type Ctx, ok, paginate, type Result, uuidFilter } from './http.js';
import type { Environment, SandboxState } from './state.js';
import { iso, normaliseUuid, notFound, uuidFromName } from './util.js';

/*
 * Application activities (ListApplicationActivities, GetApplicationActivity), with the reference's fields.
 * The sandbox records one when it performs a deploy, a backup, a restore or a variable change, and seeds the
 * past ones of its seeded deployments, manual backups and a few variable changes. The `type` values, the
 * `context` shape and the newest-first order are inferred: the reference types them as plain strings/objects.
 */

export type ActivityType =
  | 'deployment'
  | 'backup'
  | 'backup_restore'
  | 'environment_variable_create'
  | 'environment_variable_update'
  | 'environment_variable_delete';

export interface ActivityRecord {
  uuid: string;
  application: string;
  organisation: string;
  createdMs: number;
  user: string | null;
  user_name: string;
  user_email: string;
  type: ActivityType;
  description: string;
  context: Record<string, unknown>;
}

export interface ActivityUser {
  uuid: string;
  name: string;
  email: string;
}

/** Team members who did the seeded past work (the token's own user does what the sandbox is asked to do). */
export const TEAM: readonly ActivityUser[] = [
  { uuid: uuidFromName('user:alex'), name: 'Alex Rivera', email: 'alex@acme.example' },
  { uuid: uuidFromName('user:kim'), name: 'Kim Lee', email: 'kim@acme.example' },
  { uuid: uuidFromName('user:sam'), name: 'Sam Okafor', email: 'sam@acme.example' },
];

export function recordActivity(
  s: SandboxState,
  input: {
    env: Environment;
    type: ActivityType;
    description: string;
    context?: Record<string, unknown>;
    user?: ActivityUser | undefined;
    atMs?: number | undefined;
    uuid?: string | undefined;
  },
): ActivityRecord {
  const app = s.applications.get(input.env.application);
  const user = input.user ?? {
    uuid: s.user.uuid,
    name: `${s.user.first_name} ${s.user.last_name}`,
    email: s.user.email,
  };
  const rec: ActivityRecord = {
    uuid: input.uuid ?? s.newUuid('application-activity'),
    application: input.env.application,
    organisation: app?.organisation ?? '',
    createdMs: input.atMs ?? s.now(),
    user: user.uuid,
    user_name: user.name,
    user_email: user.email,
    type: input.type,
    description: input.description,
    context: { environment: input.env.uuid, environment_slug: input.env.slug, ...input.context },
  };
  s.activities.push(rec);
  return rec;
}

function view(a: ActivityRecord) {
  return {
    uuid: a.uuid,
    application: a.application,
    organisation: a.organisation,
    created_at: iso(a.createdMs),
    user: a.user,
    impersonated: false,
    description: a.description,
    type: a.type,
    context: a.context,
    user_name: a.user_name,
    user_email: a.user_email,
    user_avatar_images: {},
  };
}

/** ListApplicationActivities: filters `application`, `organisation`, `type`, `user_name` (exact, inferred). */
export function listActivities(ctx: Ctx): Result {
  const app = uuidFilter(ctx, 'application');
  const org = uuidFilter(ctx, 'organisation');
  const type = ctx.query.get('type');
  const user = ctx.query.get('user_name');
  const items = ctx.state.activities
    .filter(
      (a) =>
        (!app || a.application === app) &&
        (!org || a.organisation === org) &&
        (!type || a.type === type) &&
        (!user || a.user_name === user),
    )
    .sort((a, b) => b.createdMs - a.createdMs || (a.uuid < b.uuid ? -1 : 1));
  return paginate(ctx, items, view);
}

export function getActivity(ctx: Ctx, raw: string): Result {
  const id = normaliseUuid(raw);
  const a = ctx.state.activities.find((x) => x.uuid === id);
  if (!a) throw notFound();
  return ok(view(a));
}
