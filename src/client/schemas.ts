import { z } from 'zod';

// Response schemas, validated at the client boundary. Objects are loose (unknown fields pass through) and
// almost every field is optional/nullable: only the keys callers rely on (`uuid`, slugs, envelopes) are
// required, so a harmless API addition or omission never breaks a tool. Field names follow the v3 reference.

const str = z.string().nullish();
const num = z.number().nullish();
const bool = z.boolean().nullish();
const uuidList = z.array(z.string()).nullish();
/** A related object: its ID, or (in some detail views) the nested object. */
const idRef = z.union([z.string(), z.looseObject({ uuid: z.string() })]).nullish();

export const OrganisationSchema = z.looseObject({
  uuid: z.string(),
  name: str,
  created_at: str,
});

export const UserSchema = z.looseObject({
  uuid: z.string(),
  email: str,
  first_name: str,
  last_name: str,
});

export const ApplicationSchema = z.looseObject({
  uuid: z.string(),
  slug: z.string(),
  name: str,
  organisation: str,
  region: str,
  repository: str,
  is_suspended: bool,
  suspended_reason: str,
  is_undergoing_maintenance: bool,
  created_at: str,
  tags: z.array(z.unknown()).nullish(),
});

/** Nested deployment summary in an environment (`last_finished_deployment` and friends). */
export const DeploymentRefSchema = z.looseObject({
  uuid: str,
  status: str,
  success: bool,
  started_at: str,
  ended_at: str,
});

// A live ListEnvironments response (saved in the public repository mebdivio/cdtest1, `environment.json`) carries
// uuid, application, app_name, slug, branch, primary_domain, pending_commits_lookup,
// ondemand_backup_retention_config, scheduled_backup_config, environment_variables and is_production_grade; the
// rest come from the reference's GetEnvironment sample.
export const EnvironmentSchema = z.looseObject({
  uuid: z.string(),
  slug: z.string(),
  // An ID in the list view, a nested object in the detail view.
  application: idRef,
  branch: str,
  is_production_grade: bool,
  /** A git range `<released commit>..<branch>`, what GetRepositoryCommits takes as `lookup`. */
  pending_commits_lookup: str,
  primary_domain: idRef,
  ondemand_backup_retention_config: idRef,
  scheduled_backup_config: idRef,
  /** Variable names only (values come from ListEnvironmentVariables); read with `variableNames`. */
  environment_variables: z.unknown().optional(),
  deployed_url: str,
  last_finished_deployment: DeploymentRefSchema.nullish(),
  currently_running_deployment: DeploymentRefSchema.nullish(),
  currently_released_deployment: DeploymentRefSchema.nullish(),
  has_pending_commits: bool,
  pending_commit_count: num,
  app_name: str,
  ssh_endpoint: z
    .looseObject({ host: str, port: z.union([z.number(), z.string()]).nullish(), user: str })
    .nullish(),
});

export const DeploymentSchema = z.looseObject({
  uuid: z.string(),
  environment: str,
  region: str,
  started_at: str,
  ended_at: str,
  duration: num,
  status: str,
  is_usable: bool,
  success: bool,
  git_commit: str,
  percent: num,
  environment_variables: z.unknown().optional(),
});

export const DeploymentLogsSchema = z.looseObject({
  uuid: z.string(),
  logs: z.string(),
});

export const BackupSchema = z.looseObject({
  uuid: z.string(),
  environment: str,
  created: str,
  notes: str,
  state: str,
  size: num,
  service_instance_backups: uuidList,
  success: str,
  scheduled_for_deletion_at: str,
  trigger: z.union([z.string(), z.number()]).nullish(),
});

export const ServiceInstanceSchema = z.looseObject({
  uuid: z.string(),
  environment: str,
  region: str,
  service: str,
  service_status: str,
  last_status_update: str,
  prefix: str,
  type: str,
});

export const ServiceInstanceBackupSchema = z.looseObject({
  uuid: z.string(),
  backup: str,
  service: str,
  service_instance: str,
  service_type: str,
  service_prefix: str,
  size: num,
  errors: z.array(z.unknown()).nullish(),
  queued_at: str,
  started_at: str,
  ended_at: str,
  taken_at: str,
});

export const BackupRestoreSchema = z.looseObject({
  uuid: z.string(),
  environment: str,
  backup: str,
  started_at: str,
  finished: bool,
  success: str,
  notes: str,
  trigger: z.union([z.string(), z.number()]).nullish(),
  service_instance_restores: z.array(z.unknown()).nullish(),
  service_instance_backup_restores: z.array(z.unknown()).nullish(),
});

export const ServiceInstanceBackupRestoreSchema = z.looseObject({
  uuid: z.string(),
  backup_restore: str,
  service_instance_backup: str,
  service_instance: str,
  queued_at: str,
  started_at: str,
  ended_at: str,
  errors: z.array(z.unknown()).nullish(),
});

export const BackupDownloadSchema = z.looseObject({
  uuid: z.string(),
  backup: str,
  author: str,
  started_at: str,
  trigger: z.union([z.string(), z.number()]).nullish(),
  service_instance_backups: uuidList,
});

export const BackupDownloadServiceInstanceSchema = z.looseObject({
  uuid: z.string(),
  backup_download: str,
  service_instance_backup: str,
  download_url: str,
  queued_at: str,
  started_at: str,
  ended_at: str,
  errors: z.array(z.unknown()).nullish(),
});

export const EnvironmentVariableSchema = z.looseObject({
  uuid: z.string(),
  name: z.string(),
  environment: str,
  value: str,
  order: num,
  is_sensitive: bool,
  is_read_only: bool,
  is_pattern_replacement_active: bool,
  date_created: str,
  date_modified: str,
});

export const DomainSchema = z.looseObject({
  uuid: z.string(),
  name: z.string(),
  environment: str,
  last_check_status: bool,
  last_check_timestamp: str,
  is_tls_enabled: bool,
  is_redirect_to_primary: bool,
  is_primary: bool,
  is_managed_by_divio: bool,
  is_wildcard: bool,
});

export const CronjobSchema = z.looseObject({
  uuid: z.string(),
  command: str,
  frequency: str,
  time: str,
  environment: str,
  custom_timeout: num,
});

export const RegionSchema = z.looseObject({
  uuid: z.string(),
  name: str,
  short_name: str,
  is_public: bool,
  is_default: bool,
});

export const ServiceSchema = z.looseObject({
  uuid: z.string(),
  name: str,
  type: str,
  description: str,
  identifier: str,
  is_backupable: bool,
  is_self_manageable: bool,
});

/**
 * One commit of GetRepositoryCommits. The reference's response sample is `{}`, so the field names are not
 * established (inferred): the usual spellings of a commit's ID, message, author and date are read.
 */
export const RepositoryCommitSchema = z.preprocess(
  (value) => {
    if (!value || typeof value !== 'object') return value;
    const c = value as Record<string, unknown>;
    const author = c['author'];
    const authorObj = author && typeof author === 'object' ? (author as Record<string, unknown>) : {};
    const first = (...vals: unknown[]) => vals.find((v) => typeof v === 'string' && v !== '') ?? null;
    return {
      ...c,
      sha: first(c['sha'], c['hash'], c['hexsha'], c['id'], c['commit']),
      message: first(c['message'], c['summary'], c['subject'], c['title']),
      author_name: first(c['author_name'], typeof author === 'string' ? author : null, authorObj['name']),
      author_email: first(c['author_email'], authorObj['email']),
      date: first(c['date'], c['authored_date'], c['committed_date'], c['timestamp'], authorObj['date']),
    };
  },
  z.looseObject({ sha: str, message: str, author_name: str, author_email: str, date: str }),
);

/** GetRepositoryCommits' answer: `{commits: [...]}`, `{results: [...]}` or a bare list (inferred, see above). */
export const RepositoryCommitsSchema = z.preprocess(
  (value) => {
    if (Array.isArray(value)) return { commits: value };
    if (value && typeof value === 'object' && !('commits' in value) && 'results' in value)
      return { ...value, commits: (value as { results: unknown }).results };
    return value;
  },
  z.looseObject({ commits: z.array(RepositoryCommitSchema) }),
);

/** Environment log record. Only `timestamp`, `service` and `message` are known (the fields the CLI's `cloud.show_log` reads). */
export const LogEntrySchema = z.looseObject({
  timestamp: str,
  service: str,
  message: str,
});

/**
 * One bucket of GetEnvironmentLogsOccurrence. The reference shows `{occurrences: [...]}` with the items collapsed,
 * so their fields are inferred: `count` with the bucket's `from_ts`/`to_ts` (the names of the operation's own
 * window parameters). `timestamp`, `key_as_string` and `doc_count` (an Elasticsearch date histogram's names) are
 * read too, so either spelling of a live answer is understood.
 */
export const LogOccurrenceSchema = z.looseObject({
  from_ts: str,
  to_ts: str,
  timestamp: str,
  key_as_string: str,
  count: num,
  doc_count: num,
});

export const LogOccurrencesSchema = z.looseObject({
  occurrences: z.array(LogOccurrenceSchema),
});

/** ListEnvironmentMetricMetadata / GetEnvironmentMetricMetadata item, with the reference's fields. */
export const MetricMetadataSchema = z.looseObject({
  uuid: z.string(),
  identifier: z.string(),
  is_visible: bool,
  title: str,
  description: str,
  chart_name: str,
  chart_display: str,
  unit: str,
  unit_numerator: str,
  unit_denominator: str,
});

/**
 * GetEnvironmentMetrics: `{metrics, from_ts, to_ts, interval}` as the reference shows; `metrics` is collapsed
 * there, so each series is read by the domain layer (src/domain/metrics.ts) whatever its spelling.
 */
export const EnvironmentMetricsSchema = z.looseObject({
  metrics: z.record(z.string(), z.unknown()).nullish(),
  from_ts: z.union([z.string(), z.number()]).nullish(),
  to_ts: z.union([z.string(), z.number()]).nullish(),
  interval: num,
});

/** One cronjob run as GetCronjobLogs' reference sample shows it. */
export const CronjobRunSchema = z.looseObject({ started_at: str, finished_at: str, exit_code: num });

/**
 * GetCronjobLogs: the reference's sample is one run object; whether the live answer is one run, a list or a
 * page is not visible there, so all three are read (as a list of runs).
 */
export const CronjobLogsSchema = z.preprocess(
  (value) =>
    Array.isArray(value)
      ? value
      : value && typeof value === 'object' && Array.isArray((value as { results?: unknown }).results)
        ? (value as { results: unknown[] }).results
        : value && typeof value === 'object'
          ? [value]
          : value,
  z.array(CronjobRunSchema),
);

/** ListApplicationActivities item, with the reference's fields (`context` is collapsed there). */
export const ActivitySchema = z.looseObject({
  uuid: z.string(),
  application: str,
  organisation: str,
  created_at: str,
  user: str,
  impersonated: bool,
  description: str,
  type: str,
  context: z.unknown().optional(),
  user_name: str,
  user_email: str,
});

const link = z
  .string()
  .nullish()
  .transform((v) => v ?? null);

// One page schema per item schema: building a zod schema costs far more than parsing with it, and lists are
// read on every call (measured with `--cpu-prof` on a warm HTTP call).
const pageSchemas = new WeakMap<z.ZodType, ReturnType<typeof buildPageSchema>>();

/** Page-number and limit/offset envelope: `{count, next, previous, results}`. */
export function pageSchema<T>(item: z.ZodType<T>) {
  let schema = pageSchemas.get(item);
  if (!schema) {
    schema = buildPageSchema(item);
    pageSchemas.set(item, schema);
  }
  return schema as ReturnType<typeof buildPageSchema<T>>;
}

function buildPageSchema<T>(item: z.ZodType<T>) {
  // Leniency: an endpoint that answers with a bare array is treated as one complete page.
  return z.preprocess(
    (value) =>
      Array.isArray(value) ? { count: value.length, next: null, previous: null, results: value } : value,
    z.looseObject({
      count: z.number().int().nonnegative().optional(),
      next: link,
      previous: link,
      results: z.array(item),
    }),
  );
}

/** Environment logs cursor envelope: `{next, previous, results}`, no `count`. */
export const LogPageSchema = z.looseObject({
  next: link,
  previous: link,
  results: z.array(LogEntrySchema),
});

export type Organisation = z.infer<typeof OrganisationSchema>;
export type User = z.infer<typeof UserSchema>;
export type Application = z.infer<typeof ApplicationSchema>;
export type DeploymentRef = z.infer<typeof DeploymentRefSchema>;
export type Environment = z.infer<typeof EnvironmentSchema>;
export type Deployment = z.infer<typeof DeploymentSchema>;
export type DeploymentLogs = z.infer<typeof DeploymentLogsSchema>;
export type Backup = z.infer<typeof BackupSchema>;
export type ServiceInstance = z.infer<typeof ServiceInstanceSchema>;
export type ServiceInstanceBackup = z.infer<typeof ServiceInstanceBackupSchema>;
export type BackupRestore = z.infer<typeof BackupRestoreSchema>;
export type ServiceInstanceBackupRestore = z.infer<typeof ServiceInstanceBackupRestoreSchema>;
export type BackupDownload = z.infer<typeof BackupDownloadSchema>;
export type BackupDownloadServiceInstance = z.infer<typeof BackupDownloadServiceInstanceSchema>;
export type EnvironmentVariable = z.infer<typeof EnvironmentVariableSchema>;
export type Domain = z.infer<typeof DomainSchema>;
export type Cronjob = z.infer<typeof CronjobSchema>;
export type Region = z.infer<typeof RegionSchema>;
export type Service = z.infer<typeof ServiceSchema>;
export type LogEntry = z.infer<typeof LogEntrySchema>;
export type RepositoryCommit = z.infer<typeof RepositoryCommitSchema>;
export type RepositoryCommits = z.infer<typeof RepositoryCommitsSchema>;
export type LogPage = z.infer<typeof LogPageSchema>;
export type LogOccurrence = z.infer<typeof LogOccurrenceSchema>;
export type CronjobRun = z.infer<typeof CronjobRunSchema>;
export type Activity = z.infer<typeof ActivitySchema>;
export type MetricMetadata = z.infer<typeof MetricMetadataSchema>;
export type EnvironmentMetrics = z.infer<typeof EnvironmentMetricsSchema>;
export type LogOccurrences = z.infer<typeof LogOccurrencesSchema>;

export interface Page<T> {
  count?: number | undefined;
  next: string | null;
  previous: string | null;
  results: T[];
  [key: string]: unknown;
}
