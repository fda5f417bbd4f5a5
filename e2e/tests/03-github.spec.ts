import { test, expect } from '@playwright/test';
import { spawn, spawnSync, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OWNER, hydrated, signIn, navTo, runAgent, shot, PYTHON, MCP_DIR, createAgentKey, createPack } from './helpers';

// The GitHub connector end to end: the operator configures the App with the
// CLI, an admin connects an installation through (a fake) GitHub's
// installation page, builds a pack that reads two repositories and opens
// pull requests, and a real agent (Python MCP SDK) uses it; the dashboard
// shows the calls in alerts, in the drill-down and on the run's timeline.

const AWS_KEY = 'AKIAQ3EGVP5XH7W2RNTA';

let fake: ChildProcess | undefined;
let fakeBase = '';
let agentKey = '';

const agent = (steps: object[]) => runAgent(agentKey, steps);

test.describe.serial('GitHub connector', () => {
  test.beforeAll(async () => {
    const base = test.info().project.use.baseURL as string;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-fake-'));
    const key = path.join(dir, 'app.pem');
    fake = spawn(PYTHON, [path.join(MCP_DIR, 'fake_github.py'), '--port', '0', '--app-id', '4242',
      '--slug', 'gatehouse-test', '--key-out', key, '--setup-url', `${base}/github/setup`],
    { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<string>((resolve, reject) => {
      let buf = '';
      fake!.stdout!.on('data', (d) => {
        buf += d.toString();
        const m = buf.match(/ready (\d+)/);
        if (m) resolve(m[1]);
      });
      fake!.on('exit', (c) => reject(new Error(`fake GitHub exited: ${c}`)));
    });
    fakeBase = `http://127.0.0.1:${port}`;
    // The operator sets the App up with the CLI (same database and master
    // key as the server Playwright started).
    const cli = spawnSync(process.env.GATEHOUSE_BIN ?? 'gatehouse',
      ['github-app', 'set', '--app-id', '4242', '--slug', 'gatehouse-test', '--private-key-file', key,
        '--api-url', `${fakeBase}/api/v3/`, '--web-url', `${fakeBase}/`], {
        env: {
          ...process.env,
          DATABASE_URL: process.env.GATEHOUSE_E2E_DATABASE_URL ?? '',
          GATEHOUSE_DATA_DIR: dir,
          GATEHOUSE_MASTER_KEY: 'a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=',
          GATEHOUSE_PUBLIC_URL: base,
          RUST_LOG: 'warn',
        },
        encoding: 'utf-8',
      });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(`${base}/github/setup`);
  });

  test.beforeEach(({ page }) => {
    page.on('pageerror', (e) => console.log(`[browser] page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') console.log(`[browser] ${m.text()}`); });
  });

  test.afterAll(() => {
    fake?.kill();
  });

  test('an admin connects GitHub, limits a pack to two repositories, and the agent can do exactly that', async ({ page }) => {
    await signIn(page, OWNER.email, OWNER.password);
    await navTo(page, 'Connectors');
    await hydrated(page);
    const section = page.getByTestId('github');
    await expect(section).toContainText('No GitHub installation is connected.');
    await section.getByLabel('GitHub organization or user to install on').fill('acme-corp');
    await section.getByRole('button', { name: 'Connect GitHub' }).click();
    // GitHub's installation page (the fake's), then back to Gatehouse.
    await expect(page).toHaveURL(new RegExp(`^${fakeBase}/apps/gatehouse-test/installations/new\\?state=`));
    await page.getByRole('link', { name: 'Install on acme-corp' }).click();
    await expect(page).toHaveURL(/\/connectors\?github=connected/);
    await hydrated(page);
    await expect(page.getByTestId('github-outcome')).toContainText('GitHub is connected');
    const inst = page.getByTestId('github-installation');
    await expect(inst).toContainText('acme-corp');
    await expect(inst).toContainText('active');
    await expect(inst).toContainText('acme-corp/infra');
    await expect(inst).toContainText('contents: write');
    await shot(page, 'github-connected');
    // The same link cannot be used twice.
    await page.goto('/github/setup?installation_id=1001&state=forged');
    await expect(page).toHaveURL(/github=invalid_state/);
    await hydrated(page);
    await expect(page.getByTestId('github-outcome')).toContainText('not valid');

    // A pack: read files, list repositories, open pull requests.
    await createPack(page, 'Repo bot');
    for (const t of ['github__get_file', 'github__list_repositories', 'github__create_pull_request']) {
      await page.getByRole('checkbox', { name: new RegExp(t) }).check();
    }
    await page.getByRole('button', { name: 'Save tools' }).click();
    await expect(page.getByText('Saved: 3 tool(s).')).toBeVisible();
    const repos = page.getByTestId('pack-repositories');
    await repos.getByRole('checkbox', { name: 'acme-corp/api' }).check();
    await repos.getByRole('checkbox', { name: 'acme-corp/web' }).check();
    await repos.getByRole('button', { name: 'Save repositories' }).click();
    await expect(repos.getByText('Saved: 2 repositories.')).toBeVisible();
    await shot(page, 'github-pack-repositories');
    const packUrl = page.url().split('?')[0];
    await page.reload();
    await hydrated(page);
    await expect(page.getByTestId('pack-repositories').getByRole('checkbox', { name: 'acme-corp/web' })).toBeChecked();
    await expect(page.getByTestId('pack-repositories').getByRole('checkbox', { name: 'acme-corp/infra' })).not.toBeChecked();

    // A key for Alice on this pack.
    agentKey = await createAgentKey(page, packUrl, 'repo agent');

    // The agent's run.
    const run = 'gh-run-' + Date.now();
    const meta = { 'gatehouse.dev/session': run };
    const out = agent([
      { op: 'list' },
      { op: 'call', tool: 'github__get_file', args: { repository: 'acme-corp/api', path: 'README.md' }, meta },
      { op: 'call', tool: 'github__get_file', args: { repository: 'acme-corp/infra', path: 'main.tf' }, meta },
      { op: 'call', tool: 'github__get_file', args: { repository: 'acme-corp/api', path: 'config/deploy.env' }, meta },
      { op: 'call', tool: 'github__create_pull_request', args: { repository: 'acme-corp/web', title: 'Tidy', head: 'main', base: 'main' }, meta },
    ]);
    expect(out[0].tools).toEqual(['github__create_pull_request', 'github__get_file', 'github__list_repositories']);
    expect(out[1].is_error).toBe(false);
    expect(out[2].is_error).toBe(true);
    expect(out[2].text).toContain('not available to this Tool Pack');
    expect(JSON.stringify(out[3])).not.toContain(AWS_KEY);

    // Alerts: the secret found in the file, redacted.
    await navTo(page, 'Alerts');
    await hydrated(page);
    const table = page.getByRole('table', { name: 'Violations' });
    await expect(table).toContainText('github__get_file');
    await expect(page.locator('body')).not.toContainText(AWS_KEY);

    // The run's timeline: every call with its repository.
    await navTo(page, 'Sessions');
    await hydrated(page);
    const row = page.getByTestId('sessions').locator('tr', { hasText: run });
    await row.getByRole('link').first().click();
    const calls = page.getByTestId('timeline-call');
    await expect(calls).toHaveCount(4);
    await expect(calls.nth(0).getByTestId('timeline-resource')).toHaveText('acme-corp/api');
    await expect(calls.nth(1).getByTestId('timeline-resource')).toHaveText('acme-corp/infra');
    await expect(calls.nth(1).getByTestId('timeline-decision')).toContainText('block');
    await expect(calls.nth(3)).toContainText('github__create_pull_request');
    await shot(page, 'github-timeline');
    // The drill-down names the repository and GitHub's request id.
    await calls.nth(0).getByRole('link').first().click();
    await expect(page.getByTestId('call-resource')).toHaveText('acme-corp/api');
    await expect(page.getByTestId('call-request-id')).toContainText('FAKE:');
  });
});
