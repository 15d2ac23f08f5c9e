// Names the object a request was about, for errors a person has to act on ("backup x", "the deployments of
// environment y"), from the API path (relative to the base URL), the query and the request body.

const KINDS: Record<string, string> = {
  applications: 'application',
  environments: 'environment',
  deployments: 'deployment',
  backups: 'backup',
  'backup-restores': 'backup restore',
  'backup-downloads': 'backup download',
  'backup-download-service-instances': 'backup download',
  'service-instances': 'service instance',
  'service-instance-backups': 'service backup',
  'environment-variables': 'environment variable',
  domains: 'domain',
  cronjobs: 'cronjob',
  organisations: 'organisation',
  regions: 'region',
  services: 'service',
  me: 'current user',
};

// Request fields and filters that say which object a collection request is about, most specific first.
const OWNERS = ['backup', 'environment', 'application', 'organisation'] as const;

/** Only ID-shaped values are echoed (letters, digits, `-`): anything else is not shown. */
function shown(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Za-z0-9-]{1,64}$/.test(value) ? value : undefined;
}

function ownerOf(query: URLSearchParams, body: unknown): string | undefined {
  const fields = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  for (const key of OWNERS) {
    const id = shown(query.get(key)) ?? shown(fields[key]);
    if (id) return `${key} ${id}`;
  }
  return undefined;
}

/**
 * `/apps/v3/backups/x/` -> "backup x"; `/apps/v3/deployments/x/logs` -> "the logs of deployment x";
 * `GET /apps/v3/backups/?environment=y` -> "the backups of environment y"; `POST /apps/v3/backups/` with
 * `{environment: y}` -> "a new backup of environment y". Unknown shapes fall back to the path.
 */
export function describeTarget(
  method: string,
  relativePath: string,
  query: URLSearchParams,
  body?: unknown,
): string {
  const parts = relativePath.split('/').filter(Boolean);
  const [, , collection, rawId, action] = parts;
  const kind = collection ? KINDS[collection] : undefined;
  if (!collection || !kind) return relativePath;
  const id = rawId ? shown(decodeURIComponent(rawId)) : undefined;
  if (rawId && !id) return relativePath;
  if (id && action) return `the ${action.replace(/-/g, ' ')} of ${kind} ${id}`;
  if (id) return `${kind} ${id}`;
  if (collection === 'me') return 'the current user (the token check)';
  const owner = ownerOf(query, body);
  if (method === 'GET')
    return owner
      ? `the ${collection.replace(/-/g, ' ')} of ${owner}`
      : `the ${collection.replace(/-/g, ' ')} list`;
  return owner ? `a new ${kind} of ${owner}` : `a new ${kind}`;
}
