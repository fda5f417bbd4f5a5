import { test, expect } from '@playwright/test';
import { spawn, spawnSync, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OWNER, VIEWER, hydrated, signIn, signOut, navTo, runAgent, shot, runAgentAsync, PYTHON, MCP_DIR, freePort, waitForPort, createAgentKey } from './helpers';

// The admin's whole journey: a real upstream MCP server (the fixture, built
// with the official Python SDK), the real Gatehouse, a real agent (Python
// SDK) making calls, and the dashboard showing what happened.

const CARD = '4111 1111 1111 1111';
const AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';

let upstream: ChildProcess | undefined;
let upstreamPort = 0;
let fixtureLog = '';
let agentKey = '';

const agent = (steps: object[]) => runAgent(agentKey, steps);
const agentAsync = (steps: object[]) => runAgentAsync(agentKey, steps);

function upstreamSaw(): any[] {
  if (!fs.existsSync(fixtureLog)) return [];
  return fs.readFileSync(fixtureLog, 'utf-8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

test.describe.serial('security gateway in the dashboard', () => {
  test.beforeAll(async () => {
    upstreamPort = await freePort();
    fixtureLog = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gh-e2e-')), 'calls.jsonl');
    upstream = spawn(PYTHON, [path.join(MCP_DIR, 'upstream.py'), '--port', String(upstreamPort)], {
      env: { ...process.env, FIXTURE_LOG: fixtureLog },
      stdio: 'inherit',
    });
    await waitForPort(upstreamPort, 30_000);
  });

  // Browser-side failures (a panic in the wasm app) are printed, so a
  // failing step says why.
  test.beforeEach(({ page }) => {
    page.on('pageerror', (e) => console.log(`[browser] page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') console.log(`[browser] ${m.text()}`); });
  });

  test.afterAll(() => {
    upstream?.kill();
  });

  test('admin adds a connector, builds a pack, a user and a key, and copies the setup', async ({ page }) => {
    await signIn(page, OWNER.email, OWNER.password);
    // Empty overview points at the first step.
    await expect(page.getByRole('link', { name: 'Add a connector' })).toBeVisible();

    await navTo(page, 'Connectors');
    await hydrated(page);
    await expect(page.getByText('No connectors yet')).toBeVisible();
    await page.getByLabel('Name', { exact: true }).fill('fixture');
    await page.getByLabel('Streamable HTTP URL').fill(`http://127.0.0.1:${upstreamPort}/mcp`);
    await page.getByLabel('Auth header name (optional)').fill('X-Api-Key');
    await page.getByLabel('Auth header value (optional)').fill('not-really-needed');
    await page.getByRole('button', { name: 'Add and discover tools' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Added fixture.' })).toBeVisible();
    const card = page.locator('article.connector[data-name="fixture"]');
    // Write-only secret: only "set" shows, never the value.
    await expect(card).toContainText('X-Api-Key: set (hidden)');
    await expect(page.locator('body')).not.toContainText('not-really-needed');
    await card.getByRole('button', { name: 'Show tools' }).click();
    await expect(card.getByText('fixture__echo')).toBeVisible();
    await card.getByRole('button', { name: 'Test & refresh tools' }).click();
    await expect(page.getByTestId('discovery')).toContainText(/tool/);
    await shot(page, 'connectors');

    // A pack with two tools.
    await navTo(page, 'Tool Packs');
    await hydrated(page);
    await page.getByLabel('Name').fill('Support agents');
    await page.getByLabel('Description (optional)').fill('Tier-1 support');
    await page.getByRole('button', { name: 'Create pack' }).click();
    await expect(page).toHaveURL(/\/packs\/[0-9a-f-]+\?tab=tools/);
    await hydrated(page);
    await page.getByLabel('Search tools').fill('echo');
    await expect(page.locator('.tool-picker li:visible')).toHaveCount(1);
    await page.getByRole('checkbox', { name: /fixture__echo/ }).check();
    await page.getByLabel('Search tools').fill('');
    await page.getByRole('checkbox', { name: /fixture__send_email/ }).check();
    await page.getByRole('button', { name: 'Save tools' }).click();
    await expect(page.getByText('Saved: 2 tool(s).')).toBeVisible();
    const packUrl = page.url().split('?')[0];

    // A Registered User.
    await navTo(page, 'Registered Users');
    await hydrated(page);
    await page.getByLabel('External id').fill('alice@acme.test');
    await page.getByLabel('Display name').fill('Alice');
    await page.getByRole('button', { name: 'Add user' }).click();
    await expect(page.locator('tr[data-user="alice@acme.test"]')).toBeVisible();
    // Long lists page: 50 more users (through the same server function the
    // form uses), then 50 per page.
    const base = test.info().project.use.baseURL as string;
    for (let i = 0; i < 50; i++) {
      const res = await page.request.post('/api/ui/save_user', {
        form: { external_id: `bulk-${String(i).padStart(2, '0')}@acme.test`, display_name: `Bulk ${i}` },
        headers: { Origin: base },
      });
      expect(res.status()).toBe(200);
    }
    await page.reload();
    await hydrated(page);
    const userRows = page.getByRole('table', { name: 'Registered Users' }).locator('tbody tr');
    await expect(userRows).toHaveCount(50);
    await page.getByRole('button', { name: 'Next →' }).click();
    await expect(userRows).toHaveCount(1);
    await expect(page.locator('tr[data-user="bulk-49@acme.test"]')).toBeVisible();
    await page.getByRole('button', { name: '← Previous' }).click();
    await expect(userRows).toHaveCount(50);

    // A key for Alice on the pack: shown once, with a copy button.
    agentKey = await createAgentKey(page, packUrl, 'laptop agent');
    await page.locator('.secret-once').getByRole('button', { name: 'Copy' }).click();
    await expect(page.locator('.secret-once').getByRole('button', { name: 'Copied' })).toBeVisible();
    await expect(page.getByRole('table', { name: 'Agent keys' })).toContainText('Alice');
    await shot(page, 'pack-keys');
    // After a reload the secret is gone for good; only the prefix remains.
    await page.reload();
    await hydrated(page);
    await expect(page.locator('body')).not.toContainText(agentKey);

    // The setup snippets name this server and `gatehouse connect`.
    await page.getByRole('link', { name: 'Setup' }).click();
    await expect(page.locator('.setup')).toContainText('gatehouse');
    await expect(page.locator('.setup')).toContainText('"connect"');
    await expect(page.locator('.setup')).toContainText(`${base}/oauth/token`);
    await page.locator('.snippet').first().getByRole('button', { name: 'Copy' }).click();
    await expect(page.locator('.snippet').first().getByRole('button', { name: 'Copied' })).toBeVisible();
    await shot(page, 'pack-setup');
  });

  test('agent calls are allowed, redacted and blocked, and the alerts page shows them', async ({ page }) => {
    await signIn(page, OWNER.email, OWNER.password);
    await page.goto('/settings');
    await hydrated(page);
    await page.getByRole('button', { name: 'Switch to enforce' }).click();
    await expect(page.getByTestId('mode-card')).toContainText('cancel tool calls');
    await page.getByRole('button', { name: 'Yes, switch' }).click();
    await expect(page.getByTestId('current-mode')).toHaveText('enforce');
    // Records keep the arguments' shape unless the org opts in to more.
    await expect(page.getByTestId('current-evidence')).toHaveText("the arguments' shape");
    await page.getByRole('button', { name: 'Keep full arguments' }).click();
    await expect(page.getByTestId('evidence-card')).toContainText('readable by every member');
    await page.getByRole('button', { name: 'Cancel' }).click();

    const out = agent([
      { op: 'list' },
      { op: 'call', tool: 'fixture__echo', args: { text: 'hello world' } },
      { op: 'call', tool: 'fixture__echo', args: { text: `card ${CARD}` } },
      { op: 'call', tool: 'fixture__echo', args: { text: `key ${AWS_KEY}` } },
    ]);
    expect(out[0].tools).toEqual(['fixture__echo', 'fixture__send_email']);
    expect(out[1]).toMatchObject({ is_error: false, text: 'hello world' });
    expect(out[2]).toMatchObject({ is_error: false, text: 'card [REDACTED:CREDIT_CARD]' });
    expect(out[3].is_error).toBe(true);
    const saw = upstreamSaw().map((c) => c.arguments.text);
    expect(saw).toContain('card [REDACTED:CREDIT_CARD]');
    expect(saw.join('\n')).not.toContain(AWS_KEY);

    await navTo(page, 'Alerts');
    await hydrated(page);
    await expect(page.getByTestId('chart')).toHaveAttribute('data-total', '2');
    await expect(page.getByTestId('chart').locator('svg')).toBeVisible();
    const table = page.getByRole('table', { name: 'Violations' });
    await expect(table.locator('tr[data-label="CREDIT_CARD"]')).toHaveCount(1);
    await expect(table.locator('tr[data-label="AWS_ACCESS_KEY"]')).toHaveCount(1);
    // Evidence is redacted: the raw values never reach the page.
    await expect(page.locator('body')).not.toContainText(AWS_KEY);
    await expect(page.locator('body')).not.toContainText(CARD);
    await expect(page.getByRole('region', { name: 'By Tool Pack' })).toContainText('Support agents');
    await expect(page.getByRole('region', { name: 'By Registered User' })).toContainText('Alice');
    // Filter by action via the form.
    await page.getByLabel('Action', { exact: true }).selectOption('block');
    await expect(page.getByTestId('chart')).toHaveAttribute('data-total', '1');
    await expect(table.locator('tbody tr')).toHaveCount(1);
    // Filters live in the address bar: a reload keeps them.
    await expect(page).toHaveURL(/action=block/);
    await page.reload();
    await hydrated(page);
    await expect(page.getByTestId('chart')).toHaveAttribute('data-total', '1');
    await expect(page.getByLabel('Action', { exact: true })).toHaveValue('block');
    await shot(page, 'alerts');

    // Drill down into the blocked call.
    await table.locator('tbody tr').first().getByRole('link').click();
    await expect(page).toHaveURL(/\/alerts\/calls\//);
    const facts = page.getByTestId('call-facts');
    await expect(page.getByRole('heading', { level: 2, name: /fixture__echo/ })).toBeVisible();
    await expect(facts).toContainText('upstream tool echo');
    await expect(facts).toContainText('Support agents');
    await expect(facts).toContainText('Alice');
    await expect(facts).toContainText('block');
    await expect(page.getByRole('table', { name: 'Detections' })).toContainText('/text');
    await expect(page.getByTestId('call-arguments')).toContainText('[REDACTED:AWS_ACCESS_KEY]');
    await shot(page, 'call-detail');
    // Back from the drill-down: the same filtered view.
    await page.goBack();
    await expect(page.getByTestId('chart')).toHaveAttribute('data-total', '1');
  });

  test('a pack override changes the next call, and the Rule Tester highlights matches', async ({ page }) => {
    await signIn(page, OWNER.email, OWNER.password);
    await navTo(page, 'Tool Packs');
    await page.getByRole('link', { name: 'Support agents' }).click();
    await hydrated(page);
    await page.getByRole('navigation', { name: 'Pack sections' }).getByRole('link', { name: 'Rules' }).click();
    const row = page.locator('tr[data-rule="CREDIT_CARD"]');
    await expect(row).toBeVisible();
    await hydrated(page);
    await row.getByLabel('CREDIT_CARD arguments action').selectOption('block');
    await row.getByRole('button', { name: 'Override' }).click();
    await expect(row.locator('.badge-override')).toBeVisible();
    await expect(row).toContainText('→ block');
    await shot(page, 'pack-rules');

    const out = agent([{ op: 'call', tool: 'fixture__echo', args: { text: `card ${CARD}` } }]);
    expect(out[0].is_error).toBe(true);

    // Reset brings back the org's value.
    await row.getByRole('button', { name: 'Reset' }).click();
    await expect(row.locator('.badge-override')).toHaveCount(0);
    const again = agent([{ op: 'call', tool: 'fixture__echo', args: { text: `card ${CARD}` } }]);
    expect(again[0]).toMatchObject({ is_error: false, text: 'card [REDACTED:CREDIT_CARD]' });

    await navTo(page, 'Rule Tester');
    await hydrated(page);
    await page.getByLabel('Sample').fill('Please email jane.doe@example.com the card 4111 1111 1111 1111');
    const marks = page.getByTestId('highlighted').locator('mark');
    await expect(marks).toHaveCount(2);
    await expect(page.getByTestId('highlighted').locator('mark[data-label="CREDIT_CARD"]')).toHaveText(CARD);
    await expect(page.getByTestId('redacted-arguments')).toContainText('[REDACTED:CREDIT_CARD]');
    await shot(page, 'rule-tester');

    // A custom rule: a bad pattern is explained inline before saving.
    await navTo(page, 'Rules');
    await hydrated(page);
    await page.getByLabel('Name', { exact: true }).fill('Employee id');
    await page.getByLabel('Label').fill('EMPLOYEE_ID');
    await page.getByLabel('Pattern (regular expression)').fill('EMP-(');
    await expect(page.locator('#pattern-error')).toBeVisible();
    await expect(page.locator('#name-error')).toHaveCount(0);
    await page.getByLabel('Pattern (regular expression)').fill('EMP-\\d{6}');
    await expect(page.getByText('Pattern compiles.')).toBeVisible();
    await page.getByRole('button', { name: 'Add rule' }).click();
    await expect(page.locator('tr[data-rule="Employee id"]')).toBeVisible();
    await shot(page, 'rules');
  });

  test('a tool policy with a CEL condition blocks the next call, and the policy tester says why', async ({ page }) => {
    await signIn(page, OWNER.email, OWNER.password);
    await navTo(page, 'Tool policies');
    await hydrated(page);
    await page.getByLabel('Name', { exact: true }).fill('No rm');
    await page.getByLabel('Tools', { exact: true }).fill('fixture__echo');
    // A bad condition is explained inline, with its position, before saving.
    await page.getByLabel('Condition (CEL, optional)').fill("args.text.contains('rm -rf'");
    await expect(page.locator('#condition-error')).toContainText('Line 1, column');
    await page.getByLabel('Condition (CEL, optional)').fill("args.text.contains('rm -rf')");
    await expect(page.getByText('Condition compiles.')).toBeVisible();
    await page.getByLabel('Action', { exact: true }).selectOption('block');
    await page.getByRole('button', { name: 'Add rule' }).click();
    const row = page.locator('tr[data-policy="No rm"]');
    await expect(row).toBeVisible();
    await expect(row.locator('.badge-block')).toBeVisible();
    await shot(page, 'tool-policies');

    const out = agent([
      { op: 'call', tool: 'fixture__echo', args: { text: 'rm -rf /' } },
      { op: 'call', tool: 'fixture__echo', args: { text: 'ls' } },
    ]);
    expect(out[0].is_error).toBe(true);
    expect(out[0].text).toContain('"No rm"');
    expect(out[1]).toMatchObject({ is_error: false, text: 'ls' });
    expect(upstreamSaw().some((c) => JSON.stringify(c).includes('rm -rf'))).toBe(false);

    await page.getByLabel('Tool', { exact: true }).fill('fixture__echo');
    await page.getByLabel('Arguments (JSON object)').fill('{"text": "rm -rf /tmp"}');
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    const result = page.getByRole('status', { name: 'Policy test result' });
    await expect(result).toContainText('Rule "No rm"');
    await expect(result.locator('.badge-block')).toBeVisible();

    await row.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await expect(row).toHaveCount(0);
  });

  test('an approver sees a held call appear and approves it while the agent waits; a viewer cannot decide', async ({ page, browser }) => {
    await signIn(page, OWNER.email, OWNER.password);
    await navTo(page, 'Tool policies');
    await hydrated(page);
    await page.getByLabel('Name', { exact: true }).fill('Merges need approval');
    await page.getByLabel('Tools', { exact: true }).fill('fixture__echo');
    await page.getByLabel('Condition (CEL, optional)').fill("args.text.startsWith('merge')");
    await expect(page.getByText('Condition compiles.')).toBeVisible();
    await page.getByLabel('Action', { exact: true }).selectOption('approve');
    await page.getByRole('button', { name: 'Add rule' }).click();
    await expect(page.locator('tr[data-policy="Merges need approval"] .badge-approve')).toBeVisible();

    await page.goto('/approvals');
    await hydrated(page);
    const waiting = agentAsync([{ op: 'call', tool: 'fixture__echo', args: { text: 'merge the release branch' } }]);
    // The request appears on its own, with the pending count in the navigation.
    const card = page.locator('article.approval[data-tool="fixture__echo"][data-status="pending"]');
    await expect(card).toBeVisible({ timeout: 20_000 });
    await expect(card.getByTestId('approval-arguments')).toContainText('merge the release branch');
    await expect(page.getByTestId('pending-approvals')).toHaveText('1', { timeout: 10_000 });
    await shot(page, 'approvals');
    expect(upstreamSaw().some((c) => c.arguments?.text === 'merge the release branch')).toBe(false);
    await card.getByRole('button', { name: 'Approve' }).click();
    const out = await waiting;
    expect(out[0]).toMatchObject({ is_error: false, text: 'merge the release branch' });
    await page.getByRole('tab', { name: 'Decided' }).click();
    await expect(page.locator('article.approval[data-status="used"]').getByTestId('decided')).toContainText(OWNER.email);

    // A second held call: a viewer sees it but cannot decide it.
    const second = agentAsync([{ op: 'call', tool: 'fixture__echo', args: { text: 'merge again' } }]);
    const viewerContext = await browser.newContext();
    const viewer = await viewerContext.newPage();
    await signIn(viewer, VIEWER.email, VIEWER.password);
    await viewer.goto('/approvals');
    await hydrated(viewer);
    const pendingCard = viewer.locator('article.approval[data-status="pending"]');
    await expect(pendingCard).toBeVisible({ timeout: 20_000 });
    await expect(pendingCard.getByRole('button', { name: 'Approve' })).toHaveCount(0);
    const id = await pendingCard.getAttribute('data-id');
    const res = await viewer.request.post('/api/ui/decide_approval', {
      form: { id: id as string, decision: 'approve', comment: '' },
      headers: { Origin: test.info().project.use.baseURL as string },
    });
    expect(res.status()).toBe(403);
    await viewerContext.close();

    // The owner denies it; the agent is told why.
    await page.getByRole('tab', { name: 'Pending' }).click();
    const again = page.locator(`article.approval[data-id="${id}"]`);
    await again.getByLabel(/Comment/).fill('not during the freeze');
    await again.getByRole('button', { name: 'Deny' }).click();
    const denied = await second;
    expect(denied[0].is_error).toBe(true);
    expect(denied[0].text).toContain('not during the freeze');

    await navTo(page, 'Tool policies');
    await hydrated(page);
    const rule = page.locator('tr[data-policy="Merges need approval"]');
    await rule.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await expect(rule).toHaveCount(0);
  });

  test('an admin adds a signed webhook: the secret is shown once, deliveries are logged', async ({ page }) => {
    await signIn(page, OWNER.email, OWNER.password);
    await navTo(page, 'Settings');
    await hydrated(page);
    // Credentials in the URL are refused on the field.
    await page.getByLabel('URL', { exact: true }).fill('https://user:secret@hooks.example.com/x');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await expect(page.locator('#url-error')).toContainText('signs every delivery');
    await page.getByLabel('URL', { exact: true }).fill('http://127.0.0.1:9/hook');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await expect(page.getByTestId('new-webhook-secret')).toContainText('ghw_');
    const hook = page.locator('article.webhook[data-url="http://127.0.0.1:9/hook"]');
    await expect(hook).toBeVisible();
    await hook.getByRole('button', { name: 'Show deliveries' }).click();
    await expect(hook.getByText('No deliveries yet.')).toBeVisible();
    // Write-only: after a reload the secret is gone for good.
    await page.reload();
    await hydrated(page);
    await expect(page.getByText('ghw_')).toHaveCount(0);
    await hook.getByRole('button', { name: 'Remove' }).click();
    await page.getByRole('button', { name: 'Yes, remove' }).click();
    await expect(hook).toHaveCount(0);
  });

  test('a viewer reads the gateway pages but cannot edit', async ({ page, request }) => {
    await signIn(page, VIEWER.email, VIEWER.password);
    await page.goto('/connectors');
    await hydrated(page);
    await expect(page.locator('article.connector[data-name="fixture"]')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Add and discover tools' })).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Remove' })).toHaveCount(0);
    await page.goto('/rules');
    await hydrated(page);
    await expect(page.locator('tr[data-entity="CREDIT_CARD"] input[type=checkbox]')).toBeDisabled();
    // Calling the server function directly is refused too.
    const cookies = await page.context().cookies();
    const res = await page.request.post('/api/ui/create_connector', {
      form: { name: 'evil', url: 'http://127.0.0.1:1/mcp', auth_header_name: '', auth_header_value: '' },
      headers: { Origin: test.info().project.use.baseURL as string },
    });
    expect(res.status()).toBe(403);
    expect(cookies.length).toBeGreaterThan(0);
    await signOut(page);
  });

  test('an operator\'s small quota runs out: Enforce Paused with its reason, and the run is one timeline', async ({ page }) => {
    await signIn(page, OWNER.email, OWNER.password);
    await page.goto('/settings');
    await hydrated(page);
    const switchOn = page.getByRole('button', { name: 'Switch to enforce' });
    if (await switchOn.count()) {
      await switchOn.click();
      await page.getByRole('button', { name: 'Yes, switch' }).click();
    }
    await expect(page.getByTestId('current-mode')).toHaveText('enforce');
    const org = await (await page.request.get('/api/v1/org')).json();
    const quota = org.enforcement.usage.used + 2;
    // The operator gives the org a small quota with the CLI.
    const cli = spawnSync(process.env.GATEHOUSE_BIN ?? 'gatehouse',
      ['org', 'plan', org.org_id, '--plan', 'team', '--enforce-quota', String(quota)], {
        env: { ...process.env, DATABASE_URL: process.env.GATEHOUSE_E2E_DATABASE_URL ?? '', RUST_LOG: 'warn' },
        encoding: 'utf-8',
      });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(`enforce quota ${quota} calls`);

    // One agent run, named by the client: two enforced calls use the
    // quota up; the third is decided as in monitor mode.
    const run = 'e2e-run-' + Date.now();
    const meta = { 'gatehouse.dev/session': run };
    const out = agent([
      { op: 'call', tool: 'fixture__echo', args: { text: 'first' }, meta },
      { op: 'call', tool: 'fixture__echo', args: { text: 'second' }, meta },
      { op: 'call', tool: 'fixture__echo', args: { text: 'third' }, meta },
    ]);
    expect(out.map((r) => r.is_error)).toEqual([false, false, false]);

    await page.goto('/');
    await hydrated(page);
    const banner = page.getByTestId('enforcement-banner');
    await expect(banner).toContainText('Enforce Paused');
    await expect(banner).toContainText('quota');
    await expect(banner).toContainText(`${quota} calls decided in enforce mode`);
    await expect(page.getByTestId('effective-mode')).toHaveText('Enforce Paused');
    await expect(page.getByTestId('configured-mode')).toContainText('Configured: enforce');
    await expect(page.getByTestId('nav-mode')).toHaveText('Enforce Paused');
    await shot(page, 'enforce-paused');

    await page.goto('/settings');
    await hydrated(page);
    await expect(page.getByTestId('current-mode')).toHaveText('enforce');
    const card = page.getByTestId('enforcement-card');
    await expect(card.getByTestId('settings-effective-mode')).toContainText('Enforce Paused');
    await expect(card.getByTestId('settings-effective-mode')).toContainText('quota used up');
    await expect(card.getByTestId('usage-text')).toContainText(`${quota} of ${quota}`);
    const events = card.getByTestId('org-events');
    await expect(events.locator('tr[data-kind="enforce_paused"]')).toContainText('Enforce paused');
    await expect(events.locator('tr[data-kind="plan_changed"]')).toContainText('Plan set to team');
    await expect(events.locator('tr[data-kind="mode_changed"]').first()).toContainText(OWNER.email);
    // Records are kept the server's 400 days unless the org keeps them for less.
    const retention = page.getByTestId('retention-card');
    await expect(retention.getByTestId('retention-days')).toHaveText('400 days');
    await retention.getByLabel('Keep records for (days)').fill('30');
    await retention.getByRole('button', { name: 'Save' }).click();
    await expect(retention.getByTestId('retention-days')).toHaveText('30 days');
    await expect(retention).toContainText("this organization's choice");

    // The run's timeline: the three calls in order, the last one paused.
    await navTo(page, 'Sessions');
    await hydrated(page);
    const row = page.getByTestId('sessions').locator('tr', { hasText: run });
    await expect(row).toBeVisible();
    await row.getByRole('link').first().click();
    await expect(page.getByTestId('count-calls')).toHaveText('3');
    const calls = page.getByTestId('timeline-call');
    await expect(calls).toHaveCount(3);
    await expect(calls.nth(0)).toContainText('fixture__echo');
    await expect(calls.nth(0).getByTestId('timeline-decision')).not.toContainText('enforce paused');
    await expect(calls.nth(2).getByTestId('timeline-decision')).toContainText('enforce paused: quota');
    await shot(page, 'session-timeline');
    const href = await page.getByTestId('export').getAttribute('href');
    const exported = await (await page.request.get(href as string)).text();
    expect(exported.trim().split('\n').map((l) => JSON.parse(l).call.id).length).toBe(3);
    // Each call links to its drill-down, which links back to the run.
    await calls.nth(1).getByRole('link').first().click();
    await expect(page.getByTestId('call-facts')).toBeVisible();
    await page.getByTestId('call-session').click();
    await expect(page.getByTestId('timeline-call')).toHaveCount(3);

    // The operator lifts the limit again; enforce resumes at once.
    const lift = spawnSync(process.env.GATEHOUSE_BIN ?? 'gatehouse',
      ['org', 'plan', org.org_id, '--plan', 'enterprise'], {
        env: { ...process.env, DATABASE_URL: process.env.GATEHOUSE_E2E_DATABASE_URL ?? '', RUST_LOG: 'warn' },
        encoding: 'utf-8',
      });
    expect(lift.status, lift.stderr).toBe(0);
    await page.goto('/');
    await hydrated(page);
    await expect(page.getByTestId('effective-mode')).toHaveText('Enforce');
    await expect(page.getByTestId('enforcement-banner')).toHaveCount(0);
  });
});
