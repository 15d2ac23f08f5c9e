import type { CallOptions, DivioClient, Query } from './client.js';
import {
  type Listing,
  type NewestFirstOptions,
  type NewestFirstPage,
  readNewestFirst,
  readWhole,
  TIMESTAMPS,
} from './order.js';
import { path } from './path.js';
import {
  type Activity,
  ActivitySchema,
  type Application,
  ApplicationSchema,
  type Backup,
  type BackupDownload,
  BackupDownloadSchema,
  type BackupDownloadServiceInstance,
  BackupDownloadServiceInstanceSchema,
  type BackupRestore,
  BackupRestoreSchema,
  BackupSchema,
  type Cronjob,
  CronjobLogsSchema,
  type CronjobRun,
  CronjobSchema,
  type Deployment,
  type DeploymentLogs,
  DeploymentLogsSchema,
  DeploymentSchema,
  type Domain,
  DomainSchema,
  type Environment,
  type EnvironmentMetrics,
  EnvironmentMetricsSchema,
  EnvironmentSchema,
  type EnvironmentVariable,
  EnvironmentVariableSchema,
  type LogOccurrences,
  LogOccurrencesSchema,
  type LogPage,
  LogPageSchema,
  type MetricMetadata,
  MetricMetadataSchema,
  type Organisation,
  OrganisationSchema,
  type Page,
  type Region,
  RegionSchema,
  type RepositoryCommits,
  RepositoryCommitsSchema,
  type Service,
  type ServiceInstance,
  type ServiceInstanceBackup,
  type ServiceInstanceBackupRestore,
  ServiceInstanceBackupRestoreSchema,
  ServiceInstanceBackupSchema,
  ServiceInstanceSchema,
  ServiceSchema,
  type User,
  UserSchema,
} from './schemas.js';

// One thin method per endpoint. Paths are the ones Divio's CLI sends (`divio_cli/api_requests.py`): a trailing
// slash everywhere except the GETs of deployment logs and of backup-download service instances.
// Every method takes `opts?: { signal }` as its last parameter.

type Maybe<T> = T | undefined;

export interface PageParams {
  page?: Maybe<number>;
  page_size?: Maybe<number>;
}

export interface ApplicationListParams extends PageParams {
  organisation?: Maybe<string>;
  slug?: Maybe<string>;
  name_search?: Maybe<string>;
  uuid?: Maybe<string[]>;
}

export interface EnvironmentListParams extends PageParams {
  application?: Maybe<string>;
  slug?: Maybe<string>;
}

export interface EnvironmentLogsParams {
  from_ts?: Maybe<string>;
  to_ts?: Maybe<string>;
  search_query?: Maybe<string>;
  service?: Maybe<string>;
  limit?: Maybe<number>;
}

/** GetEnvironmentLogsOccurrence: `number_of_buckets` 1..30 (default 30), the window and the logs' filters. */
export interface EnvironmentLogsOccurrenceParams {
  number_of_buckets?: Maybe<number>;
  from_ts?: Maybe<string>;
  to_ts?: Maybe<string>;
  search_query?: Maybe<string>;
  service?: Maybe<string>;
}

export const METRIC_WINDOWS = ['1h', '6h', '12h', '24h', '7d'] as const;
export type MetricWindow = (typeof METRIC_WINDOWS)[number];

/** GetEnvironmentMetrics: `metric` (required, repeated) and either a `time_window_preset` or from/to. */
export interface EnvironmentMetricsParams {
  metric: string[];
  time_window_preset?: Maybe<MetricWindow>;
  from_ts?: Maybe<string>;
  to_ts?: Maybe<string>;
}

export interface MetricMetadataListParams extends PageParams {
  environment?: Maybe<string>;
}

/** ListApplicationActivities filters (the reference's query parameters; `avatar_size` is not used here). */
export interface ActivityListParams extends PageParams {
  application?: Maybe<string>;
  organisation?: Maybe<string>;
  type?: Maybe<string>;
  user_name?: Maybe<string>;
}

export interface DeploymentListParams extends PageParams {
  application?: Maybe<string>;
  environment?: Maybe<string>;
  is_success?: Maybe<boolean>;
}

export interface CreateDeploymentBody {
  environment: string;
  build_mode?: Maybe<'AUTO' | 'ADOPT' | 'FORCE'>;
  /** Another environment whose release this deployment copies (the API reference's CreateDeployment). */
  copy_from?: Maybe<string>;
  /** An earlier deployment whose image this deployment reuses (the API reference's CreateDeployment). */
  adopt_deployment?: Maybe<string>;
}

export interface BackupListParams extends PageParams {
  environment?: Maybe<string>;
}

export interface CreateBackupBody {
  environment: string;
  services: string[];
  notes?: Maybe<string>;
  scheduled_for_deletion_at?: Maybe<string | null>;
  trigger?: Maybe<string>;
}

export interface ServiceInstanceListParams extends PageParams {
  environment: string;
}

export interface ServiceInstanceBackupListParams extends PageParams {
  uuid?: Maybe<string[]>;
}

export interface BackupRestoreListParams extends PageParams {
  environment?: Maybe<string>;
}

export interface ServiceInstanceBackupRestoreListParams extends PageParams {
  uuid?: Maybe<string[]>;
}

export interface CreateBackupRestoreBody {
  backup: string;
  service_instance_restores: Array<{ service_instance_backup: string }>;
  notes?: Maybe<string>;
}

export interface CreateBackupDownloadBody {
  backup: string;
  service_instance_backups: string[];
  trigger: string;
}

export interface BackupDownloadServiceInstanceListParams extends PageParams {
  backup_download?: Maybe<string>;
  service_instance_backup?: Maybe<string>;
}

export interface EnvironmentVariableListParams extends PageParams {
  environment?: Maybe<string | string[]>;
  application?: Maybe<string | string[]>;
  name?: Maybe<string>;
}

export interface CreateEnvironmentVariableBody {
  name: string;
  environment: string;
  value?: Maybe<string>;
  is_sensitive?: Maybe<boolean>;
}

export interface UpdateEnvironmentVariableBody {
  value?: Maybe<string>;
  name?: Maybe<string>;
}

export interface DomainListParams extends PageParams {
  application?: Maybe<string>;
  environment?: Maybe<string>;
}

/** Cronjobs use DRF limit/offset pagination (the API reference's ListCronjobs); the `{count,next,previous,results}` envelope is inferred. */
export interface CronjobListParams {
  environment?: Maybe<string>;
  limit?: Maybe<number>;
  offset?: Maybe<number>;
}

export interface ServiceListParams extends PageParams {
  region?: Maybe<string>;
  website?: Maybe<string>;
}

/**
 * Operations whose path no public source shows (the API reference gives their names and parameters, not their
 * paths). Each path is inferred from the operation name and the reference's alphabetical path order; a 404 or
 * 405 there is answered as "not available at this path" (OperationUnavailableError), never as a missing object.
 */
export const INFERRED = {
  // GetEnvironmentLogsOccurrence sorts right after GetEnvironmentLogs (`…/logs/`) in the reference. Of the
  // spellings that sort there, `logs/occurrence/` and `logs_occurrence/` remain (`logs-occurrence/` would sort
  // before `logs/`); this client uses the first.
  logsOccurrence: {
    operation: 'GetEnvironmentLogsOccurrence',
    template: '/apps/v3/environments/{uuid}/logs/occurrence/',
  },
  metrics: { operation: 'GetEnvironmentMetrics', template: '/apps/v3/environments/{uuid}/metrics/' },
  cronjobLogs: { operation: 'GetCronjobLogs', template: '/apps/v3/cronjobs/{uuid}/logs/' },
  stopEnvironment: { operation: 'StopEnvironment', template: '/apps/v3/environments/{uuid}/stop/' },
  repositoryCommits: { operation: 'GetRepositoryCommits', template: '/apps/v3/repositories/{uuid}/commits/' },
} as const;

/** Drop undefined values and normalise single strings that may be arrays. */
function q(params: object | undefined): Query {
  const out: Query = {};
  if (!params) return out;
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    else if (Array.isArray(v)) out[k] = v.map(String);
  }
  return out;
}

/** Drop undefined keys from a request body (JSON.stringify would too, but be explicit). */
function b(body: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
}

export function createResources(c: DivioClient) {
  const s = (o?: CallOptions) => o?.signal;

  return {
    organisations: {
      list: (params?: PageParams, o?: CallOptions): Promise<Page<Organisation>> =>
        c.getPage('/iam/v3/organisations/', q(params), OrganisationSchema, s(o)),
      get: (uuid: string, o?: CallOptions): Promise<Organisation> =>
        c.request('GET', path`/iam/v3/organisations/${uuid}/`, { schema: OrganisationSchema, signal: s(o) }),
      iterate: (params?: PageParams, o?: CallOptions): AsyncIterable<Organisation> =>
        c.paginate('/iam/v3/organisations/', q(params), OrganisationSchema, s(o)),
      /** Every organisation, following `next` up to the page cap (see order.ts `readWhole`). */
      all: (o?: CallOptions): Promise<Listing<Organisation>> =>
        readWhole(c, '/iam/v3/organisations/', {}, OrganisationSchema, s(o)),
    },

    users: {
      me: (o?: CallOptions): Promise<User> =>
        c.request('GET', '/iam/v3/me/', { schema: UserSchema, signal: s(o) }),
    },

    applications: {
      list: (params?: ApplicationListParams, o?: CallOptions): Promise<Page<Application>> =>
        c.getPage('/apps/v3/applications/', q(params), ApplicationSchema, s(o)),
      get: (uuid: string, o?: CallOptions): Promise<Application> =>
        c.request('GET', path`/apps/v3/applications/${uuid}/`, { schema: ApplicationSchema, signal: s(o) }),
      iterate: (params?: ApplicationListParams, o?: CallOptions): AsyncIterable<Application> =>
        c.paginate('/apps/v3/applications/', q(params), ApplicationSchema, s(o)),
    },

    environments: {
      list: (params?: EnvironmentListParams, o?: CallOptions): Promise<Page<Environment>> =>
        c.getPage('/apps/v3/environments/', q(params), EnvironmentSchema, s(o)),
      get: (uuid: string, o?: CallOptions): Promise<Environment> =>
        c.request('GET', path`/apps/v3/environments/${uuid}/`, { schema: EnvironmentSchema, signal: s(o) }),
      iterate: (params?: EnvironmentListParams, o?: CallOptions): AsyncIterable<Environment> =>
        c.paginate('/apps/v3/environments/', q(params), EnvironmentSchema, s(o)),
      all: (
        params: Omit<EnvironmentListParams, keyof PageParams>,
        o?: CallOptions,
      ): Promise<Listing<Environment>> =>
        readWhole(c, '/apps/v3/environments/', q(params), EnvironmentSchema, s(o)),
      /** First page of the logs cursor. Follow `next`/`previous` with `logsPage`; never build cursor params. */
      logs: (uuid: string, params?: EnvironmentLogsParams, o?: CallOptions): Promise<LogPage> =>
        c.request('GET', path`/apps/v3/environments/${uuid}/logs/`, {
          query: q(params),
          schema: LogPageSchema,
          signal: s(o),
        }),
      /** A logs page by a `next`/`previous` URL from an earlier page (same origin only). */
      logsPage: (url: string, o?: CallOptions): Promise<LogPage> => c.getByUrl(url, LogPageSchema, s(o)),
      /** Matching log lines counted in `number_of_buckets` equal time buckets (GetEnvironmentLogsOccurrence). */
      logsOccurrence: (
        uuid: string,
        params?: EnvironmentLogsOccurrenceParams,
        o?: CallOptions,
      ): Promise<LogOccurrences> =>
        c.request('GET', path`/apps/v3/environments/${uuid}/logs/occurrence/`, {
          query: q(params),
          schema: LogOccurrencesSchema,
          signal: s(o),
          inferred: INFERRED.logsOccurrence,
        }),
      /** Time series of the named metrics over a window (GetEnvironmentMetrics). */
      metrics: (
        uuid: string,
        params: EnvironmentMetricsParams,
        o?: CallOptions,
      ): Promise<EnvironmentMetrics> =>
        c.request('GET', path`/apps/v3/environments/${uuid}/metrics/`, {
          query: q(params),
          schema: EnvironmentMetricsSchema,
          signal: s(o),
          inferred: INFERRED.metrics,
        }),
      /**
       * StopEnvironment. Inferred path and method: the API reference names the operation ("Stops the running
       * environment instances.") but shows no path, method, body or response; POST to the `stop/` action
       * follows its other environment actions (`copy/`). The answer's body is not read.
       */
      stop: (uuid: string, o?: CallOptions): Promise<unknown> =>
        c.request('POST', path`/apps/v3/environments/${uuid}/stop/`, {
          signal: s(o),
          inferred: INFERRED.stopEnvironment,
        }),
    },

    applicationActivities: {
      list: (params?: ActivityListParams, o?: CallOptions): Promise<Page<Activity>> =>
        c.getPage('/apps/v3/application-activities/', q(params), ActivitySchema, s(o)),
    },

    environmentMetricMetadata: {
      list: (params?: MetricMetadataListParams, o?: CallOptions): Promise<Page<MetricMetadata>> =>
        c.getPage('/apps/v3/environment-metric-metadata/', q(params), MetricMetadataSchema, s(o)),
    },

    repositories: {
      /**
       * GetRepositoryCommits: the commits of `lookup`, a git revision range such as an environment's
       * `pending_commits_lookup`. Inferred path (the `commits/` action of `repositories/{uuid}/`).
       */
      commits: (uuid: string, lookup: string, o?: CallOptions): Promise<RepositoryCommits> =>
        c.request('GET', path`/apps/v3/repositories/${uuid}/commits/`, {
          query: { lookup },
          schema: RepositoryCommitsSchema,
          signal: s(o),
          inferred: INFERRED.repositoryCommits,
        }),
    },

    deployments: {
      list: (params?: DeploymentListParams, o?: CallOptions): Promise<Page<Deployment>> =>
        c.getPage('/apps/v3/deployments/', q(params), DeploymentSchema, s(o)),
      get: (uuid: string, o?: CallOptions): Promise<Deployment> =>
        c.request('GET', path`/apps/v3/deployments/${uuid}/`, { schema: DeploymentSchema, signal: s(o) }),
      iterate: (params?: DeploymentListParams, o?: CallOptions): AsyncIterable<Deployment> =>
        c.paginate('/apps/v3/deployments/', q(params), DeploymentSchema, s(o)),
      create: (body: CreateDeploymentBody, o?: CallOptions): Promise<Deployment> =>
        c.request('POST', '/apps/v3/deployments/', { body: b(body), schema: DeploymentSchema, signal: s(o) }),
      logs: (uuid: string, o?: CallOptions): Promise<DeploymentLogs> =>
        // no trailing slash, as Divio's CLI sends it (`DeployLogRequest`); a redirect to either spelling is followed
        c.request('GET', path`/apps/v3/deployments/${uuid}/logs`, {
          schema: DeploymentLogsSchema,
          signal: s(o),
        }),
    },

    backups: {
      list: (params?: BackupListParams, o?: CallOptions): Promise<Page<Backup>> =>
        c.getPage('/apps/v3/backups/', q(params), BackupSchema, s(o)),
      get: (uuid: string, o?: CallOptions): Promise<Backup> =>
        c.request('GET', path`/apps/v3/backups/${uuid}/`, { schema: BackupSchema, signal: s(o) }),
      iterate: (params?: BackupListParams, o?: CallOptions): AsyncIterable<Backup> =>
        c.paginate('/apps/v3/backups/', q(params), BackupSchema, s(o)),
      /** Backups newest first by `created`, whichever order the API pages in. */
      newestFirst: (
        params: Omit<BackupListParams, keyof PageParams>,
        opts: NewestFirstOptions,
      ): Promise<NewestFirstPage<Backup>> =>
        readNewestFirst(c, '/apps/v3/backups/', q(params), BackupSchema, TIMESTAMPS.backup, opts),
      create: (body: CreateBackupBody, o?: CallOptions): Promise<Backup> =>
        c.request('POST', '/apps/v3/backups/', { body: b(body), schema: BackupSchema, signal: s(o) }),
    },

    serviceInstances: {
      list: (params: ServiceInstanceListParams, o?: CallOptions): Promise<Page<ServiceInstance>> =>
        c.getPage('/apps/v3/service-instances/', q(params), ServiceInstanceSchema, s(o)),
      all: (
        params: Omit<ServiceInstanceListParams, keyof PageParams>,
        o?: CallOptions,
      ): Promise<Listing<ServiceInstance>> =>
        readWhole(c, '/apps/v3/service-instances/', q(params), ServiceInstanceSchema, s(o)),
      get: (uuid: string, o?: CallOptions): Promise<ServiceInstance> =>
        c.request('GET', path`/apps/v3/service-instances/${uuid}/`, {
          schema: ServiceInstanceSchema,
          signal: s(o),
        }),
    },

    serviceInstanceBackups: {
      list: (
        params?: ServiceInstanceBackupListParams,
        o?: CallOptions,
      ): Promise<Page<ServiceInstanceBackup>> =>
        c.getPage('/apps/v3/service-instance-backups/', q(params), ServiceInstanceBackupSchema, s(o)),
      all: (
        params: Omit<ServiceInstanceBackupListParams, keyof PageParams>,
        o?: CallOptions,
      ): Promise<Listing<ServiceInstanceBackup>> =>
        readWhole(c, '/apps/v3/service-instance-backups/', q(params), ServiceInstanceBackupSchema, s(o)),
      get: (uuid: string, o?: CallOptions): Promise<ServiceInstanceBackup> =>
        c.request('GET', path`/apps/v3/service-instance-backups/${uuid}/`, {
          schema: ServiceInstanceBackupSchema,
          signal: s(o),
        }),
    },

    backupRestores: {
      list: (params?: BackupRestoreListParams, o?: CallOptions): Promise<Page<BackupRestore>> =>
        c.getPage('/apps/v3/backup-restores/', q(params), BackupRestoreSchema, s(o)),
      get: (uuid: string, o?: CallOptions): Promise<BackupRestore> =>
        c.request('GET', path`/apps/v3/backup-restores/${uuid}/`, {
          schema: BackupRestoreSchema,
          signal: s(o),
        }),
      /** Restores newest first by `started_at`, whichever order the API pages in. */
      newestFirst: (
        params: Omit<BackupRestoreListParams, keyof PageParams>,
        opts: NewestFirstOptions,
      ): Promise<NewestFirstPage<BackupRestore>> =>
        readNewestFirst(
          c,
          '/apps/v3/backup-restores/',
          q(params),
          BackupRestoreSchema,
          TIMESTAMPS.restore,
          opts,
        ),
      create: (body: CreateBackupRestoreBody, o?: CallOptions): Promise<BackupRestore> =>
        c.request('POST', '/apps/v3/backup-restores/', {
          body: b(body),
          schema: BackupRestoreSchema,
          signal: s(o),
        }),
    },

    serviceInstanceBackupRestores: {
      list: (
        params?: ServiceInstanceBackupRestoreListParams,
        o?: CallOptions,
      ): Promise<Page<ServiceInstanceBackupRestore>> =>
        c.getPage(
          '/apps/v3/service-instance-backup-restores/',
          q(params),
          ServiceInstanceBackupRestoreSchema,
          s(o),
        ),
      get: (uuid: string, o?: CallOptions): Promise<ServiceInstanceBackupRestore> =>
        c.request('GET', path`/apps/v3/service-instance-backup-restores/${uuid}/`, {
          schema: ServiceInstanceBackupRestoreSchema,
          signal: s(o),
        }),
      all: (
        params: Omit<ServiceInstanceBackupRestoreListParams, keyof PageParams>,
        o?: CallOptions,
      ): Promise<Listing<ServiceInstanceBackupRestore>> =>
        readWhole(
          c,
          '/apps/v3/service-instance-backup-restores/',
          q(params),
          ServiceInstanceBackupRestoreSchema,
          s(o),
        ),
    },

    backupDownloads: {
      list: (params?: PageParams, o?: CallOptions): Promise<Page<BackupDownload>> =>
        c.getPage('/apps/v3/backup-downloads/', q(params), BackupDownloadSchema, s(o)),
      /** Downloads newest first by `started_at`, whichever order the API pages in. */
      newestFirst: (opts: NewestFirstOptions): Promise<NewestFirstPage<BackupDownload>> =>
        readNewestFirst(c, '/apps/v3/backup-downloads/', {}, BackupDownloadSchema, TIMESTAMPS.download, opts),
      get: (uuid: string, o?: CallOptions): Promise<BackupDownload> =>
        c.request('GET', path`/apps/v3/backup-downloads/${uuid}/`, {
          schema: BackupDownloadSchema,
          signal: s(o),
        }),
      create: (body: CreateBackupDownloadBody, o?: CallOptions): Promise<BackupDownload> =>
        c.request('POST', '/apps/v3/backup-downloads/', {
          body: b(body),
          schema: BackupDownloadSchema,
          signal: s(o),
        }),
    },

    backupDownloadServiceInstances: {
      list: (
        params?: BackupDownloadServiceInstanceListParams,
        o?: CallOptions,
      ): Promise<Page<BackupDownloadServiceInstance>> =>
        c.getPage(
          '/apps/v3/backup-download-service-instances/',
          q(params),
          BackupDownloadServiceInstanceSchema,
          s(o),
        ),
      get: (uuid: string, o?: CallOptions): Promise<BackupDownloadServiceInstance> =>
        // no trailing slash, as Divio's CLI sends it (`divio_cli/api_requests.py`)
        c.request('GET', path`/apps/v3/backup-download-service-instances/${uuid}`, {
          schema: BackupDownloadServiceInstanceSchema,
          signal: s(o),
        }),
      all: (
        params: Omit<BackupDownloadServiceInstanceListParams, keyof PageParams>,
        o?: CallOptions,
      ): Promise<Listing<BackupDownloadServiceInstance>> =>
        readWhole(
          c,
          '/apps/v3/backup-download-service-instances/',
          q(params),
          BackupDownloadServiceInstanceSchema,
          s(o),
        ),
    },

    environmentVariables: {
      list: (params?: EnvironmentVariableListParams, o?: CallOptions): Promise<Page<EnvironmentVariable>> =>
        c.getPage('/apps/v3/environment-variables/', q(params), EnvironmentVariableSchema, s(o)),
      get: (uuid: string, o?: CallOptions): Promise<EnvironmentVariable> =>
        c.request('GET', path`/apps/v3/environment-variables/${uuid}/`, {
          schema: EnvironmentVariableSchema,
          signal: s(o),
        }),
      iterate: (
        params?: EnvironmentVariableListParams,
        o?: CallOptions,
      ): AsyncIterable<EnvironmentVariable> =>
        c.paginate('/apps/v3/environment-variables/', q(params), EnvironmentVariableSchema, s(o)),
      all: (
        params: Omit<EnvironmentVariableListParams, keyof PageParams>,
        o?: CallOptions,
      ): Promise<Listing<EnvironmentVariable>> =>
        readWhole(c, '/apps/v3/environment-variables/', q(params), EnvironmentVariableSchema, s(o)),
      create: (body: CreateEnvironmentVariableBody, o?: CallOptions): Promise<EnvironmentVariable> =>
        c.request('POST', '/apps/v3/environment-variables/', {
          body: b(body),
          schema: EnvironmentVariableSchema,
          signal: s(o),
        }),
      update: (
        uuid: string,
        body: UpdateEnvironmentVariableBody,
        o?: CallOptions,
      ): Promise<EnvironmentVariable> =>
        c.request('PATCH', path`/apps/v3/environment-variables/${uuid}/`, {
          body: b(body),
          schema: EnvironmentVariableSchema,
          signal: s(o),
        }),
      delete: (uuid: string, o?: CallOptions): Promise<void> =>
        c.request<void>('DELETE', path`/apps/v3/environment-variables/${uuid}/`, { signal: s(o) }),
    },

    domains: {
      list: (params?: DomainListParams, o?: CallOptions): Promise<Page<Domain>> =>
        c.getPage('/apps/v3/domains/', q(params), DomainSchema, s(o)),
      get: (uuid: string, o?: CallOptions): Promise<Domain> =>
        c.request('GET', path`/apps/v3/domains/${uuid}/`, { schema: DomainSchema, signal: s(o) }),
    },

    cronjobs: {
      list: (params?: CronjobListParams, o?: CallOptions): Promise<Page<Cronjob>> =>
        c.getPage('/apps/v3/cronjobs/', q(params), CronjobSchema, s(o)),
      get: (uuid: string, o?: CallOptions): Promise<Cronjob> =>
        c.request('GET', path`/apps/v3/cronjobs/${uuid}/`, { schema: CronjobSchema, signal: s(o) }),
      iterate: (params?: CronjobListParams, o?: CallOptions): AsyncIterable<Cronjob> =>
        c.paginate('/apps/v3/cronjobs/', q(params), CronjobSchema, s(o)),
      /** The cronjob's runs (GetCronjobLogs), as a list whatever the answer's envelope. */
      logs: (uuid: string, o?: CallOptions): Promise<CronjobRun[]> =>
        c.request('GET', path`/apps/v3/cronjobs/${uuid}/logs/`, {
          schema: CronjobLogsSchema,
          signal: s(o),
          inferred: INFERRED.cronjobLogs,
        }),
    },

    regions: {
      list: (params?: PageParams, o?: CallOptions): Promise<Page<Region>> =>
        c.getPage('/apps/v3/regions/', q(params), RegionSchema, s(o)),
      get: (uuid: string, o?: CallOptions): Promise<Region> =>
        c.request('GET', path`/apps/v3/regions/${uuid}/`, { schema: RegionSchema, signal: s(o) }),
    },

    services: {
      list: (params?: ServiceListParams, o?: CallOptions): Promise<Page<Service>> =>
        c.getPage('/apps/v3/services/', q(params), ServiceSchema, s(o)),
      get: (uuid: string, o?: CallOptions): Promise<Service> =>
        c.request('GET', path`/apps/v3/services/${uuid}/`, { schema: ServiceSchema, signal: s(o) }),
    },
  };
}

export type Resources = ReturnType<typeof createResources>;
