import { test, expect, Page } from '@playwright/test';
import { spawn, spawnSync } from 'child_process';
import * as net from 'net';
import * as path from 'path';

export const OWNER = { email: 'owner@acme.test', password: 'correct horse battery staple' };
export const VIEWER = { email: 'viewer@acme.test', password: 'viewer passphrase 42' };

/** The Python with the MCP SDK (scripts/test sets it) and the fixtures. */
export const PYTHON = process.env.GATEHOUSE_TEST_PYTHON ?? 'python3';
export const MCP_DIR = path.resolve(__dirname, '..', 'mcp');

/** Creates a Tool Pack named `name` from the Tool Packs page and waits on
 * its Tools tab. */
export async function createPack(page: Page, name: string) {
  await navTo(page, 'Tool Packs');
  await hydrated(page);
  await page.getByLabel('Name').fill(name);
  await page.getByRole('button', { name: 'Create pack' }).click();
  await expect(page).toHaveURL(/\/packs\/[0-9a-f-]+\?tab=tools/);
  await hydrated(page);
}

/** On a Tool Pack's Keys tab, creates a key for Alice named `name`; returns
 * the secret, which the page shows once. */
export async function createAgentKey(page: Page, packUrl: string, name: string): Promise<string> {
  await page.goto(`${packUrl}?tab=keys`);
  await hydrated(page);
  await page.getByLabel('Registered User').selectOption({ label: 'Alice (alice@acme.test)' });
  await page.getByLabel('Key name').fill(name);
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = page.getByTestId('new-secret');
  await expect(secret).toHaveText(/^ghk_/);
  return (await secret.textContent())!.trim();
}

/** Waits until the Leptos app has hydrated (interactive). */
export async function hydrated(page: Page) {
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
}

export async function signIn(page: Page, email: string, password: string) {
  await page.goto('/signin');
  await hydrated(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
}

export async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/signin$/);
}

/** Follows a link in the main navigation. */
export async function navTo(page: Page, name: string) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
}

/** A TCP port nothing listens on at 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Waits until something listens on `port` (a fixture server starting). */
export async function waitForPort(port: number, ms: number) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.end(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`fixture upstream did not listen on ${port}`);
}

function agentArgs(mode: string): string[] {
  const base = test.info().project.use.baseURL as string;
  return [path.join(MCP_DIR, 'agent.py'), '--base', base, '--mode', mode];
}

/** Runs the scripted agent (Python MCP SDK) with an agent key and returns one result per step. */
export function runAgent(key: string, steps: object[], mode = 'auto'): any[] {
  const r = spawnSync(PYTHON, agentArgs(mode), {
    input: JSON.stringify(steps),
    env: { ...process.env, GATEHOUSE_AGENT_KEY: key },
    encoding: 'utf-8',
    timeout: 90_000,
  });
  if (r.status !== 0) throw new Error(`agent failed: ${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string);
}

/** As `runAgent`, without blocking: for calls that wait for an approval. */
export function runAgentAsync(key: string, steps: object[], mode = 'auto'): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const p = spawn(PYTHON, agentArgs(mode), { env: { ...process.env, GATEHOUSE_AGENT_KEY: key } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      if (code !== 0) reject(new Error(`agent failed: ${err}\n${out}`));
      else resolve(JSON.parse(out.trim().split('\n').pop() as string));
    });
    p.stdin.end(JSON.stringify(steps));
  });
}

/** A screenshot for the README when GATEHOUSE_SCREENSHOTS names a folder
 * (the viewport, not the full page: the sidebar is sticky). */
export async function shot(page: Page, name: string) {
  const dir = process.env.GATEHOUSE_SCREENSHOTS;
  if (dir) await page.screenshot({ path: path.join(dir, `${name}.png`) });
}
