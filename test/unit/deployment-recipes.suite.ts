import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { packageRoot } from '../../src/config/package-root.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { DEPLOYED_NODE_FLAGS } from '../../bench/servers.js';

/**
 * There is no Docker engine or helm binary on the build machines: these tests check by reading
 * what can be checked, so a broken reference or an unbalanced template fails CI instead of an
 * install. The image recipe itself runs in test/integration/deploy/image-recipe.test.ts.
 */
const chartDir = join(packageRoot, 'helm', 'gatehouse');
const templatesDir = join(chartDir, 'templates');
type Tree = { [key: string]: unknown };
const read = (path: string) => readFileSync(path, 'utf8');
const values = parseYaml(read(join(chartDir, 'values.yaml'))) as Tree;
const templates = readdirSync(templatesDir).map((name) => ({ name, text: read(join(templatesDir, name)) }));

function hasPath(tree: unknown, path: string[]): boolean {
  let node = tree;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || !(key in node)) return false;
    node = (node as Tree)[key];
  }
  return true;
}

describe('Helm chart', () => {
  test('Chart.yaml names the chart, its version and the app version', () => {
    const chart = parseYaml(read(join(chartDir, 'Chart.yaml'))) as Tree;
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'gatehouse', type: 'application' });
    expect(String(chart.version)).toMatch(/^\d+\.\d+\.\d+$/);
    const pkg = JSON.parse(read(join(packageRoot, 'package.json'))) as { version: string };
    expect(chart.appVersion).toBe(pkg.version);
  });

  test('every .Values reference in a template exists in values.yaml', () => {
    const missing: string[] = [];
    for (const { name, text } of templates) {
      for (const match of text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
        const path = (match[1] ?? '').slice(1).split('.');
        if (!hasPath(values, path)) missing.push(`${name}: .Values.${path.join('.')}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test('the config it mounts is a valid Gatehouse configuration, with the storage settings named', () => {
    const config = loadConfig({}, values.config as Parameters<typeof loadConfig>[1]);
    expect(config.storage).toMatchObject({ poolSize: 10, statementTimeoutSeconds: 10, redisKeyPrefix: 'gatehouse:' });
    expect(config.log.level).toBe('info');
    const storage = (values.config as Tree).storage as Tree;
    for (const bad of [
      { statementTimeoutSeconds: 0 },
      { redisKeyPrefix: 'no-colon' },
      { poolSize: 0 },
      { poolSize: 1 },
    ]) {
      expect(() => loadConfig({}, { storage: { ...storage, ...bad } } as Parameters<typeof loadConfig>[1])).toThrow(
        ConfigError,
      );
    }
  });

  test('sets TRUSTED_PROXY_HOPS from trustedProxyHops, 1 for its ingress, bounded alike by values.schema.json and Gatehouse', () => {
    expect(values.trustedProxyHops).toBe(1);
    const helpers = templates.find((t) => t.name === '_helpers.tpl')?.text ?? '';
    expect(helpers).toMatch(/- name: TRUSTED_PROXY_HOPS\n\s+value: \{\{ \.Values\.trustedProxyHops \| quote \}\}\n/);
    // The deprecated boolean is gone: set beside the hops it would only add a warning or a contradiction.
    expect(templates.filter((t) => /\bTRUST_PROXY\b/.test(t.text)).map((t) => t.name)).toEqual([]);
    type Bounds = { type: string; minimum: number; maximum: number };
    const schema = JSON.parse(read(join(chartDir, 'values.schema.json'))) as {
      properties: Record<string, Bounds>;
      required: string[];
    };
    expect(Object.keys(schema.properties).filter((key) => !hasPath(values, [key]))).toEqual([]);
    const bounds = schema.properties.trustedProxyHops;
    expect(bounds).toMatchObject({ type: 'integer', minimum: 0 });
    expect(schema.required).toContain('trustedProxyHops');
    // The rendered value boots, and the schema lets through exactly what Gatehouse accepts.
    expect(loadConfig({ TRUSTED_PROXY_HOPS: String(values.trustedProxyHops) }).http.trustedProxyHops).toBe(1);
    expect(loadConfig({ TRUSTED_PROXY_HOPS: String(bounds?.maximum) }).http.trustedProxyHops).toBe(bounds?.maximum);
    expect(() => loadConfig({ TRUSTED_PROXY_HOPS: String((bounds?.maximum ?? 0) + 1) })).toThrow(ConfigError);
  });

  test('every value in values.yaml is documented by a comment', () => {
    const lines = read(join(chartDir, 'values.yaml')).split('\n');
    const undocumented = lines
      .map((line, index) => ({ line, index }))
      .filter(({ line }) => /^[A-Za-z]/.test(line))
      .filter(({ index }) => !lines[index - 1]?.trim().startsWith('#') && !/^\s+# /.test(lines[index + 1] ?? ''))
      .map(({ line }) => line);
    expect(undocumented).toEqual([]);
  });

  test.each(templates.filter((t) => t.name.endsWith('.yaml') || t.name.endsWith('.tpl')).map((t) => [t.name, t.text]))(
    '%s: actions are balanced',
    (_name, text) => {
      const actions = [...text.matchAll(/\{\{-?\s*(.*?)\s*-?\}\}/gs)].map((m) => (m[1] ?? '').trim());
      let depth = 0;
      for (const action of actions) {
        if (action.startsWith('/*')) continue;
        if (/^(if|with|range|define)\b/.test(action)) depth += 1;
        if (/^end\b/.test(action)) depth -= 1;
        expect(depth).toBeGreaterThanOrEqual(0);
      }
      expect(depth).toBe(0);
      expect(text.split('{{').length).toBe(text.split('}}').length);
    },
  );

  test('pods run non-root on a read-only root filesystem, without privilege escalation, with probes', () => {
    expect(values.podSecurityContext).toMatchObject({ runAsNonRoot: true });
    expect(values.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    const deployment = templates.find((t) => t.name === 'deployment.yaml')?.text ?? '';
    // Under the issuer's path prefix, where the server answers them (docs/operations.md).
    expect(deployment).toMatch(/livenessProbe:\s+httpGet:\s+path: \{\{ include "gatehouse\.basePath" \. \}\}\/healthz/);
    expect(deployment).toMatch(/readinessProbe:\s+httpGet:\s+path: \{\{ include "gatehouse\.basePath" \. \}\}\/readyz/);
    const helpers = templates.find((t) => t.name === '_helpers.tpl')?.text ?? '';
    expect(helpers).toContain(
      '{{- (urlParse (required "issuer is required (the public https URL)" .Values.issuer)).path | trimSuffix "/" -}}',
    );
    const ingress = templates.find((t) => t.name === 'ingress.yaml')?.text ?? '';
    expect(ingress).toContain('path: {{ include "gatehouse.basePath" $ | default "/" }}');
    expect(deployment).toContain('topologySpreadConstraints');
  });

  test('secrets come by reference only: no Secret object, every secret env var from secretKeyRef', () => {
    expect(templates.some((t) => /^kind:\s*Secret\b/m.test(t.text))).toBe(false);
    const helpers = templates.find((t) => t.name === '_helpers.tpl')?.text ?? '';
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'KEY_ENCRYPTION_SECRET', 'SMTP_URL']) {
      expect(helpers).toMatch(new RegExp(`name: ${name}\\n\\s+valueFrom:\\n\\s+secretKeyRef:`));
    }
  });

  test('the migration Job is a pre-install/pre-upgrade hook running migrate', () => {
    const job = templates.find((t) => t.name === 'migration-job.yaml')?.text ?? '';
    expect(job).toContain('helm.sh/hook: pre-install,pre-upgrade');
    expect(job).toMatch(/command: \["node", "dist\/src\/cli\/main\.js", "migrate"\]/);
    expect(existsSync(join(packageRoot, 'src', 'cli', 'main.ts'))).toBe(true);
  });

  test('the chart README shows an install against existing PostgreSQL and Redis', () => {
    const readme = read(join(chartDir, 'README.md'));
    expect(readme).toMatch(/helm (upgrade --)?install/);
    expect(readme).toContain('existingSecret');
    expect(readme).toContain('DATABASE_URL');
    expect(readme).toContain('REDIS_URL');
  });
});

describe('Dockerfile', () => {
  const dockerfile = read(join(packageRoot, 'Dockerfile'));
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const ignored = read(join(packageRoot, '.dockerignore'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  test('is multi-stage on a pinned Node.js slim base', () => {
    const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1] ?? '';
    expect(base).toMatch(/^node:\d+\.\d+\.\d+-[a-z]+-slim$/);
    expect(instructions.filter((l) => l.startsWith('FROM ')).length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
  });

  test('runs as a non-root user with a health check, a stop signal and labels', () => {
    const runtime = instructions.slice(instructions.findLastIndex((l) => l.startsWith('FROM '))).join('\n');
    expect(runtime).toMatch(/^USER (node|\d{4,})$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\/healthz/m);
    expect(runtime).toMatch(/^STOPSIGNAL SIGTERM$/m);
    expect(runtime).toMatch(/^LABEL org\.opencontainers\.image\.title=/m);
  });

  test('starts node with the flags npm start and the benchmark use', () => {
    const cmd = JSON.parse(/^CMD (\[.+\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
    expect(cmd[0]).toBe('node');
    expect(cmd.at(-1)).toBe('dist/src/main.js');
    const flags = cmd.slice(1, -1);
    expect(flags).toEqual([...DEPLOYED_NODE_FLAGS]);
    const start = (JSON.parse(read(join(packageRoot, 'package.json'))) as { scripts: { start: string } }).scripts.start;
    expect(start).toBe(['node', ...flags, 'dist/src/main.js'].join(' '));
  });

  test('copies only paths that exist and that .dockerignore lets through', () => {
    const sources = instructions
      .filter((l) => l.startsWith('COPY ') && !l.includes('--from='))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect({ source, exists: existsSync(join(packageRoot, source)) }).toEqual({ source, exists: true });
      expect({ source, ignored: ignored.includes(source) }).toEqual({ source, ignored: false });
    }
    for (const secretish of ['.git', 'node_modules', 'data', '.env']) expect(ignored).toContain(secretish);
  });
});
