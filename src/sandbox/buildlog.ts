/** A deploy-log line with its position as a fraction (0..1) of the deployment's nominal duration. */
export interface TimedLine {
  at: number;
  text: string;
}

interface Params {
  app: string;
  env: string;
  branch: string;
  commit: string;
  buildMode: string;
}

function spread(lines: string[], from: number, to: number): TimedLine[] {
  const step = lines.length > 1 ? (to - from) / (lines.length - 1) : 0;
  return lines.map((text, i) => ({ at: from + step * i, text }));
}

function buildSteps(p: Params): string[] {
  return [
    `Deployment of ${p.app} (${p.env}) started, build mode ${p.buildMode}`,
    `Cloning git@git.divio.com:${p.app}.git, branch ${p.branch}`,
    `Checked out commit ${p.commit.slice(0, 12)}`,
    'Building image',
    'Step 1/11 : FROM python:3.11-slim-bookworm',
    ' ---> 4f1d2c9a8b7e',
    'Step 2/11 : ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1',
    ' ---> Using cache',
    'Step 3/11 : RUN apt-get update && apt-get install -y --no-install-recommends libpq5 gettext',
    ' ---> Using cache',
    'Step 4/11 : WORKDIR /app',
    ' ---> Using cache',
    'Step 5/11 : COPY requirements.txt /app/',
    ' ---> 8c3a51e0d2f4',
    'Step 6/11 : RUN pip install -r requirements.txt',
    ' ---> Running in 1e9b7f0c33aa',
    'Collecting Django==4.2.16',
    '  Downloading Django-4.2.16-py3-none-any.whl (8.0 MB)',
    'Collecting gunicorn==22.0.0',
    'Collecting psycopg2-binary==2.9.9',
    'Collecting celery==5.4.0',
    'Collecting django-storages[s3]==1.14.4',
  ];
}

/** The deploy steps every successful deployment ends with. */
const DEPLOY_STEPS = [
  'Running release command: python manage.py migrate --noinput',
  'Operations to perform:',
  '  Apply all migrations: admin, auth, contenttypes, sessions, core',
  'Running migrations:',
  '  No migrations to apply.',
  'Starting new containers (2 web, 1 worker)',
  'Waiting for health checks on /healthz',
  'Health checks passed',
  'Switching traffic to new containers',
  'Stopping previous containers',
  'Deployment successful',
];

/** A deployment that reuses the image of an earlier one (`adopt_deployment`, `copy_from`): nothing is built. */
export function buildReuseLog(p: Params & { source: string }): TimedLine[] {
  const reuse = [
    `Deployment of ${p.app} (${p.env}) started, build mode ${p.buildMode}`,
    `Reusing the image of deployment ${p.source} (commit ${p.commit.slice(0, 12)}); nothing to build`,
    'Pulling image from registry.divio.com',
  ];
  return [...spread(reuse, 0.1, 0.58), ...spread(DEPLOY_STEPS, 0.62, 1)];
}

export function buildSuccessLog(p: Params): TimedLine[] {
  const build = [
    ...buildSteps(p),
    'Installing collected packages: sqlparse, asgiref, Django, gunicorn, psycopg2-binary, celery, boto3',
    'Successfully installed Django-4.2.16 asgiref-3.8.1 boto3-1.35.10 celery-5.4.0 gunicorn-22.0.0',
    ' ---> 2b7d90a1c6e3',
    'Step 7/11 : COPY . /app',
    'Step 8/11 : RUN python manage.py collectstatic --noinput',
    '412 static files copied to /app/static_collected.',
    'Step 9/11 : EXPOSE 80',
    'Step 10/11 : CMD ["gunicorn", "wsgi", "--bind", "0.0.0.0:80"]',
    `Step 11/11 : LABEL commit=${p.commit.slice(0, 12)}`,
    'Successfully built 5d0e8f7a9b21',
    'Pushing image to registry.divio.com',
  ];
  return [...spread(build, 0.1, 0.58), ...spread(DEPLOY_STEPS, 0.62, 1)];
}

export function buildFailureLog(p: Params): TimedLine[] {
  const build = [
    ...buildSteps(p),
    'Collecting stripe==99.0.1',
    'ERROR: Could not find a version that satisfies the requirement stripe==99.0.1 (from versions: 10.12.0, 11.0.0, 11.1.0)',
    'ERROR: No matching distribution found for stripe==99.0.1',
    "The command '/bin/sh -c pip install -r requirements.txt' returned a non-zero code: 1",
    'Build failed: Dockerfile step 6/11 (RUN pip install -r requirements.txt) exited with code 1',
    'Deployment failed',
  ];
  return spread(build, 0.1, 0.6);
}
