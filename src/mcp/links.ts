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

const JSON_TYPE = 'application/json' as const;
const TEXT_TYPE = 'text/plain' as const;

export function appLink(app: string, title?: string): ResourceLink {
  const link: ResourceLink = {
    type: 'resource_link',
    uri: uris.application(app),
    name: inline(app),
    mimeType: JSON_TYPE,
  };
  if (title) link.title = inline(title);
  return link;
}

export function envLink(app: string, env: string): ResourceLink {
  return {
    type: 'resource_link',
    uri: uris.environment(app, env),
    name: inline(`${app}/${env}`),
    mimeType: JSON_TYPE,
  };
}

export function logsLink(app: string, env: string): ResourceLink {
  return {
    type: 'resource_link',
    uri: uris.logs(app, env),
    name: inline(`${app}/${env} logs`),
    mimeType: TEXT_TYPE,
  };
}

export function deploymentLogLink(uuid: string): ResourceLink {
  return {
    type: 'resource_link',
    uri: uris.deploymentLog(uuid),
    name: `deployment ${inline(uuid.slice(0, 8))} log`,
    mimeType: TEXT_TYPE,
  };
}

export function backupLink(uuid: string): ResourceLink {
  return {
    type: 'resource_link',
    uri: uris.backup(uuid),
    name: `backup ${inline(uuid.slice(0, 8))}`,
    mimeType: JSON_TYPE,
  };
}
