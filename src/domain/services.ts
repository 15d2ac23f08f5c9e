import * as z from 'zod';
import { type Api, onePage, type Pager } from './context.js';
import { PageInfo, PlatformText } from './shapes.js';
import { idOf, resolveTarget } from './targets.js';

export const ServiceInstanceList = z.object({
  app: z.string(),
  environment: z.string(),
  services: z.array(
    z.object({
      uuid: z.string(),
      type: z.string(),
      prefix: PlatformText('service prefix'),
      status: z.string(),
      service: z.string().nullable(),
    }),
  ),
  ...PageInfo,
});

/** The service instances of an environment (databases, storages...), one page. */
export async function listServiceInstances(
  api: Api,
  args: { app: string; environment: string; limit: number },
  pager: Pager,
): Promise<z.infer<typeof ServiceInstanceList>> {
  const { app, env } = await resolveTarget(api, args.app, args.environment);
  const scope = { app: app.uuid, environment: env.uuid };
  const page = await onePage(api, pager, scope, () =>
    api.client.serviceInstances.list({ environment: env.uuid, page_size: args.limit }, api),
  );
  return {
    app: app.slug,
    environment: env.slug,
    services: page.results.map((s) => ({
      uuid: s.uuid,
      type: String(s.type ?? 'UNKNOWN'),
      prefix: String(s.prefix ?? ''),
      status: String(s.service_status ?? 'UNKNOWN'),
      service: idOf(s.service),
    })),
    ...pager.info(scope, page.next),
  };
}
