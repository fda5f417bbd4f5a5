import { defineConfig } from '@playwright/test';

// scripts/test starts nothing itself: Playwright launches the real
// `gatehouse serve` (webServer below) against a fresh database it is given.
const port = Number(process.env.GATEHOUSE_E2E_PORT ?? 18080);
const bin = process.env.GATEHOUSE_BIN ?? 'gatehouse';

export default defineConfig({
  testDir: './tests',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  outputDir: process.env.GATEHOUSE_E2E_OUT ?? 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    browserName: 'chromium',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
    viewport: { width: 1280, height: 860 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  webServer: {
    command: `${bin} serve`,
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      GATEHOUSE_ADDR: `127.0.0.1:${port}`,
      DATABASE_URL: process.env.GATEHOUSE_E2E_DATABASE_URL ?? '',
      GATEHOUSE_SITE_ROOT: process.env.GATEHOUSE_SITE_ROOT ?? '',
      GATEHOUSE_DATA_DIR: process.env.GATEHOUSE_E2E_DATA_DIR ?? '',
      GATEHOUSE_MASTER_KEY: 'a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=',
      // The fixture upstream MCP server listens on loopback.
      GATEHOUSE_ALLOW_PRIVATE_UPSTREAMS: 'true',
      RUST_LOG: process.env.RUST_LOG ?? 'info',
    },
  },
});
