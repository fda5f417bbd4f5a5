import { test, expect } from '@playwright/test';
import { OWNER, hydrated, signIn, navTo, runAgent, shot, runAgentAsync, createAgentKey, createPack } from './helpers';

// The Postgres connector end to end: an admin adds a tenant's database
// (scripts/test seeds it from e2e/fixtures/shop.sql), builds a pack that
// reads two tables with one column masked, and a real agent (Python MCP
// SDK) lists the schema, describes a table, reads rows with personal data
// redacted and proposes a risky delete that waits for a person's approval.

const DSN = process.env.GATEHOUSE_E2E_SHOP_DSN ?? '';
const PASSWORD = 'e2e-shop-password';

let agentKey = '';

const agent = (steps: object[]) => runAgent(agentKey, steps);
const agentAsync = (steps: object[]) => runAgentAsync(agentKey, steps);

test.describe.serial('Postgres connector', () => {
  test.beforeEach(({ page }) => {
    page.on('pageerror', (e) => console.log(`[browser] page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') console.log(`[browser] ${m.text()}`); });
  });

  test('an admin adds a database, a pack reads two tables, and a risky delete waits for approval', async ({ page }) => {
    expect(DSN, 'scripts/test sets GATEHOUSE_E2E_SHOP_DSN').toContain(PASSWORD);
    const dbName = DSN.split('/').pop()!.split('?')[0];
    await signIn(page, OWNER.email, OWNER.password);
    await navTo(page, 'Connectors');
    await hydrated(page);

    // Add it: the URL is a password field and never comes back.
    const form = page.getByTestId('add-database');
    await form.getByLabel('Connector name').fill('shop');
    await form.getByLabel('Connection URL').fill(DSN);
    await form.getByRole('button', { name: 'Add and test' }).click();
    await expect(form.getByTestId('db-saved')).toContainText('Connected to PostgreSQL');
    const card = page.getByTestId('database').filter({ hasText: 'shop' });
    await expect(card.getByTestId('db-target')).toHaveText(new RegExp(`^postgres@127\\.0\\.0\\.1:\\d+/${dbName}$`));
    await expect(card).toContainText('Password');
    await expect(card).toContainText('set (hidden)');
    await card.getByRole('button', { name: 'Test connection' }).click();
    await expect(page.getByTestId('db-test')).toContainText('Connected to PostgreSQL');
    await shot(page, 'postgres-connector');
    await page.reload();
    await hydrated(page);
    expect(await page.content()).not.toContain(PASSWORD);

    // A pack: the database tools, two tables, e-mail addresses masked.
    await createPack(page, 'Analyst');
    const tools = ['shop__db_schema_read', 'shop__db_table_describe', 'shop__db_query_read', 'shop__db_write_propose'];
    for (const t of tools) {
      await page.getByRole('checkbox', { name: new RegExp(t) }).check();
    }
    await page.getByRole('button', { name: 'Save tools' }).click();
    await expect(page.getByText('Saved: 4 tool(s).')).toBeVisible();
    const access = page.getByTestId('pack-databases');
    await access.getByLabel('Tables (one per line)').fill('public.customers\npublic.orders');
    await access.getByLabel('Masked columns').fill('public.customers.email');
    await access.getByRole('button', { name: 'Save database access' }).click();
    await expect(access.getByText('Saved.')).toBeVisible();
    // A table name that is not schema.table is refused in words.
    await access.getByLabel('Tables (one per line)').fill('customers');
    await access.getByRole('button', { name: 'Save database access' }).click();
    await expect(access).toContainText('is not schema.table or schema.*');
    await access.getByLabel('Tables (one per line)').fill('public.customers\npublic.orders');
    await access.getByRole('button', { name: 'Save database access' }).click();
    await expect(access.getByText('Saved.')).toBeVisible();
    await shot(page, 'postgres-pack-access');
    const packUrl = page.url().split('?')[0];

    agentKey = await createAgentKey(page, packUrl, 'analyst agent');

    const out = agent([
      { op: 'list' },
      { op: 'call', tool: 'shop__db_schema_read', args: {} },
      { op: 'call', tool: 'shop__db_table_describe', args: { table: 'customers' } },
      { op: 'call', tool: 'shop__db_query_read', args: { sql: 'SELECT id, email, ssn FROM customers WHERE id = 3' } },
      { op: 'call', tool: 'shop__db_query_read', args: { sql: 'SELECT token FROM secrets' } },
      { op: 'call', tool: 'shop__db_query_read', args: { sql: 'SELECT 1; DELETE FROM orders' } },
    ]);
    expect(out[0].tools).toEqual(tools.slice().sort());
    const schema = JSON.parse(out[1].text);
    expect(schema.tables.map((t: any) => t.name)).toEqual(['customers', 'orders']);
    expect(JSON.parse(out[2].text).columns.find((c: any) => c.name === 'email').masked).toBe(true);
    expect(out[3].is_error).toBe(false);
    const row = JSON.parse(out[3].text).rows[0];
    expect(row).toEqual({ id: 3, email: '[MASKED]', ssn: '[REDACTED:US_SSN]' });
    expect(out[4].is_error).toBe(true);
    expect(out[4].text).toContain('public.secrets is not available to this Tool Pack');
    expect(out[5].is_error).toBe(true);
    expect(out[5].text).toContain('only one statement is allowed');

    // A DELETE without WHERE: scored, and held while the agent waits.
    await page.goto('/approvals');
    await hydrated(page);
    const waiting = agentAsync([{ op: 'call', tool: 'shop__db_write_propose', args: { sql: 'DELETE FROM orders' } }]);
    const held = page.locator('article.approval[data-tool="shop__db_write_propose"][data-status="pending"]');
    await expect(held).toBeVisible({ timeout: 20_000 });
    await expect(held.getByTestId('approval-arguments')).toContainText('no WHERE clause');
    await expect(held.getByTestId('approval-arguments')).toContainText('public.orders');
    await shot(page, 'postgres-approval');
    await held.getByRole('button', { name: 'Approve' }).click();
    const done = await waiting;
    expect(done[0].is_error).toBe(false);
    expect(JSON.parse(done[0].text)).toMatchObject({ executed: true, rows_affected: 6, table: 'public.orders' });

    // The drill-down: the statement's kind, tables and fingerprint; the
    // SQL itself only here, detected values redacted.
    await navTo(page, 'Sessions');
    await hydrated(page);
    await page.getByTestId('sessions').locator('tr').nth(1).getByRole('link').first().click();
    const calls = page.getByTestId('timeline-call');
    await expect(calls.first().getByTestId('timeline-resource')).toContainText('DELETE orders #');
    await calls.first().getByRole('link').first().click();
    await expect(page.getByTestId('call-resource')).toContainText('DELETE orders #');
    await expect(page.getByTestId('call-statement')).toHaveText('DELETE FROM orders');
  });
});
