import { inline } from '../text/index.js';

// The divio:// URIs of the resources, and the resource_link items tool results carry to them.
// Imports only the text module, so tools can link to resources without depending on the resource layer.
// Link names and titles are platform text a client shows as they are: one line, sanitized.

export const uris = {
  applications: (): string => 'divio://applications',
  application: (app: string): string => `divio://applications/${encodeURIComponent(app)}`,
  environment: (app: string, env: string): string =>
    `divio://applications/${encodeURIComponent(app)}/environments/${encodeURIComponent(env)}`,
  logs: (app: string, env: string): string => `${uris.environment(app, env)}/logs`,
  deploymentLog: (uuid: string): string => `divio://deployments/${encodeURIComponent(uuid)}/log`,
  backup: (uuid: string): string => `divio://backups/${encodeURIComponent(uuid)}`,
};

export interface ResourceLink {
  type: 'resource_link';
  uri: string;
  name: string;
  title?: string;
  mimeType: 'application/json' | 'text/plain';
}

/** The one way a result links to a resource: its URI, a one-line name, and the type of what it reads as. */
function link(uri: string, name: string, mimeType: ResourceLink['mimeType'], title?: string): ResourceLink {
  const out: ResourceLink = { type: 'resource_link', uri, name: inline(name), mimeType };
  if (title) out.title = inline(title);
  return out;
}

export function appLink(app: string, title?: string): ResourceLink {
  return link(uris.application(app), app, 'application/json', title);
}

export function envLink(app: string, env: string): ResourceLink {
  return link(uris.environment(app, env), `${app}/${env}`, 'application/json');
}

export function logsLink(app: string, env: string): ResourceLink {
  return link(uris.logs(app, env), `${app}/${env} logs`, 'text/plain');
}

/** The build log of a deployment; `name` replaces the default "deployment <id> log". */
export function deploymentLogLink(uuid: string, name = `deployment ${uuid.slice(0, 8)} log`): ResourceLink {
  return link(uris.deploymentLog(uuid), name, 'text/plain');
}

export function backupLink(uuid: string): ResourceLink {
  return link(uris.backup(uuid), `backup ${uuid.slice(0, 8)}`, 'application/json');
}
