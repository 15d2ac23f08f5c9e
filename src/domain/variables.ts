import * as z from 'zod';
import { type Api, onePage, type Pager } from './context.js';
import { PageInfo, PlatformText } from './shapes.js';
import { resolveTarget } from './targets.js';

export const VariableList = z.object({
  app: z.string(),
  environment: z.string(),
  variables: z.array(
    z.object({
      uuid: z.string(),
      name: PlatformText('variable name'),
      value: PlatformText('variable value').nullable(),
      sensitive: z.boolean(),
      read_only: z.boolean(),
    }),
  ),
  ...PageInfo,
});

/** The environment variables of an environment, one page; a sensitive value is never returned. */
export async function listVariables(
  api: Api,
  args: { app: string; environment: string; name?: string | undefined; limit: number },
  pager: Pager,
): Promise<z.infer<typeof VariableList>> {
  const { app, env } = await resolveTarget(api, args.app, args.environment);
  const scope = { app: app.uuid, environment: env.uuid, filters: { name: args.name } };
  const page = await onePage(api, pager, scope, () =>
    api.client.environmentVariables.list(
      { environment: env.uuid, page_size: args.limit, ...(args.name ? { name: args.name } : {}) },
      api,
    ),
  );
  return {
    app: app.slug,
    environment: env.slug,
    variables: page.results.map((v) => {
      const sensitive = v.is_sensitive === true;
      return {
        uuid: v.uuid,
        name: String(v.name ?? ''),
        // Never hand out a sensitive value, whatever the API returned.
        value: sensitive ? null : typeof v.value === 'string' ? v.value : null,
        sensitive,
        read_only: v.is_read_only === true,
      };
    }),
    ...pager.info(scope, page.next),
  };
}
