import * as z from 'zod';
import { type Api, onePage, type Pager } from './context.js';
import { PageInfo, PlatformText } from './shapes.js';
import { envSlugMap, idOf, resolveAppAndEnv } from './targets.js';

export const DomainList = z.object({
  app: z.string(),
  domains: z.array(
    z.object({
      uuid: z.string(),
      name: PlatformText('domain name'),
      environment: z.string().nullable(),
      primary: z.boolean(),
      redirect_to_primary: z
        .boolean()
        .nullable()
        .describe('is_redirect_to_primary: requests to this domain are redirected to the primary one'),
      tls: z.boolean().nullable(),
      state: z.string().nullable(),
    }),
  ),
  ...PageInfo,
});

/** The domains of an app, or of one of its environments, one page. */
export async function listDomains(
  api: Api,
  args: { app: string; environment?: string | undefined; limit: number },
  pager: Pager,
): Promise<z.infer<typeof DomainList>> {
  const { app, env } = await resolveAppAndEnv(api, args.app, args.environment);
  const scope = { app: app.uuid, environment: env?.uuid };
  const [slugs, page] = await Promise.all([
    envSlugMap(api, app),
    onePage(api, pager, scope, () =>
      api.client.domains.list(
        env
          ? { environment: env.uuid, page_size: args.limit }
          : { application: app.uuid, page_size: args.limit },
        api,
      ),
    ),
  ]);
  return {
    app: app.slug,
    domains: page.results.map((d) => {
      const envId = idOf(d.environment);
      return {
        uuid: d.uuid,
        name: String(d.name ?? ''),
        environment: envId ? (slugs.get(envId) ?? envId) : null,
        primary: d.is_primary === true,
        redirect_to_primary: typeof d.is_redirect_to_primary === 'boolean' ? d.is_redirect_to_primary : null,
        tls: typeof d.is_tls_enabled === 'boolean' ? d.is_tls_enabled : null,
        state: typeof d.state === 'string' ? d.state : null,
      };
    }),
    ...pager.info(scope, page.next),
  };
}
