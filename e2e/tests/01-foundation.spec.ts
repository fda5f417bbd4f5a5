import { test, expect } from '@playwright/test';
import { OWNER, VIEWER, hydrated, navTo, signIn, signOut } from './helpers';

// These run in order against one fresh database: the first test sees the
// very first visit of a new installation.
test.describe.configure({ mode: 'serial' });

test('first run creates the organization and its owner', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/setup$/);
  await expect(page.getByRole('heading', { name: 'Create your organization' })).toBeVisible();
  await hydrated(page);

  // Bad input is explained per field and creates nothing.
  await page.getByLabel('Organization name').fill('Acme');
  await page.getByLabel('Your email').fill('not-an-email@x');
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create organization' }).click();
  await expect(page.getByText('Enter an email address like name@example.com.')).toBeVisible();
  await expect(page.getByText(/Too short\. Use at least 12 characters/)).toBeVisible();
  await expect(page).toHaveURL(/\/setup$/);

  await page.getByLabel('Your email').fill(OWNER.email);
  await page.getByLabel('Password').fill(OWNER.password);
  await page.getByRole('button', { name: 'Create organization' }).click();
  await expect(page.getByRole('heading', { name: 'Acme', level: 1 })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Main' })).toContainText(OWNER.email);

  // The setup page is gone once an organization exists.
  await page.goto('/setup');
  await expect(page).toHaveURL(/\/signin$/);
});

test('sign out, wrong password, sign in', async ({ page }) => {
  await signIn(page, OWNER.email, OWNER.password);
  await signOut(page);

  await hydrated(page);
  await page.getByLabel('Email').fill(OWNER.email);
  await page.getByLabel('Password').fill('not the password at all');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong email or password.');
  await expect(page).toHaveURL(/\/signin$/);

  // Signed out really means signed out: the dashboard sends us back.
  await page.goto('/members');
  await expect(page).toHaveURL(/\/signin$/);

  await signIn(page, OWNER.email, OWNER.password);
  await expect(page.getByRole('heading', { name: 'Acme', level: 1 })).toBeVisible();
});

test('owner invites a member, who joins with their own password, and changes their role', async ({ page, browser }) => {
  await signIn(page, OWNER.email, OWNER.password);
  await navTo(page, 'Members');
  await expect(page.getByRole('heading', { name: 'Members', level: 1 })).toBeVisible();
  await hydrated(page);

  const invite = page.locator('form', { has: page.getByRole('button', { name: 'Create invitation link' }) });
  await invite.getByLabel('Email').fill(VIEWER.email);
  await invite.getByLabel('Role').selectOption('admin');
  await invite.getByRole('button', { name: 'Create invitation link' }).click();
  const link = (await page.getByTestId('invitation-link').textContent())!.trim();
  expect(link).toMatch(/\/invite\/ghi_/);
  await expect(page.getByRole('table', { name: 'Pending invitations' })).toContainText(VIEWER.email);

  // The person opens the link in their own browser and chooses a password.
  const theirs = await browser.newContext();
  const guest = await theirs.newPage();
  await guest.goto(link);
  await expect(guest.getByRole('heading', { name: 'Join Acme' })).toBeVisible();
  await hydrated(guest);
  await guest.getByLabel('Choose a password').fill('short');
  await guest.getByRole('button', { name: 'Create my account and join' }).click();
  await expect(guest.getByText(/Too short/).first()).toBeVisible();
  await guest.getByLabel('Choose a password').fill(VIEWER.password);
  await guest.getByRole('button', { name: 'Create my account and join' }).click();
  // Exact: the invitation page's own heading is "Join Acme".
  await expect(guest.getByRole('heading', { name: 'Acme', level: 1, exact: true })).toBeVisible();
  // The link worked once.
  await guest.goto(link);
  await expect(guest.getByText('invalid, already used', { exact: false })).toBeVisible();
  await theirs.close();

  await page.reload();
  const row = page.locator(`tr[data-email="${VIEWER.email}"]`);
  await expect(row).toBeVisible();
  await expect(row.getByRole('combobox')).toHaveValue('admin');
  await expect(page.getByText('No pending invitations.')).toBeVisible();

  // Demote to viewer; the change survives a reload.
  await row.getByRole('combobox').selectOption('viewer');
  await row.getByRole('button', { name: 'Change role' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Role changed.' })).toBeVisible();
  await page.reload();
  await expect(page.locator(`tr[data-email="${VIEWER.email}"]`).getByRole('combobox')).toHaveValue('viewer');

  // The last owner cannot demote themselves.
  await hydrated(page);
  const me = page.locator(`tr[data-email="${OWNER.email}"]`);
  await me.getByRole('combobox').selectOption('admin');
  await me.getByRole('button', { name: 'Change role' }).click();
  await expect(page.getByText('An organization needs at least one owner.', { exact: false })).toBeVisible();
});

test('a viewer is refused on admin pages and admin server functions', async ({ page }) => {
  await signIn(page, VIEWER.email, VIEWER.password);
  await expect(page.locator('.role-badge').first()).toHaveText('viewer');

  await navTo(page, 'Settings');
  await expect(page.getByRole('alert')).toHaveText(
    'Your role in this organization does not allow this action.',
  );
  await expect(page.getByLabel('Name')).toHaveCount(0);

  await navTo(page, 'Members');
  await expect(page.getByRole('table', { name: 'Members' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Create invitation link' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Change role' })).toHaveCount(0);

  // Calling the admin endpoint directly is refused by the server too.
  const res = await page.request.post('/api/ui/invite', {
    form: { email: 'sneaky@acme.test', role: 'owner' },
  });
  expect(res.status()).toBe(403);
  expect((await res.json()).kind).toBe('forbidden');
  const rename = await page.request.post('/api/ui/rename_org', { form: { name: 'Pwned' } });
  expect(rename.status()).toBe(403);

  await page.reload();
  await expect(page.locator('tr[data-email="sneaky@acme.test"]')).toHaveCount(0);
});

test('sign-up creates a second organization and members switch between orgs', async ({ page }) => {
  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Organization name').fill('Globex');
  await page.getByLabel('Your email').fill(OWNER.email);
  await page.getByLabel('Password').fill('another passphrase here');
  await page.getByRole('button', { name: 'Create organization' }).click();
  // Sign-up never tells that an address has an account: a wrong password
  // reads exactly like a wrong password on sign-in.
  await expect(page.getByText('Wrong email or password.').first()).toBeVisible();
  await expect(page.getByText('already exists')).toHaveCount(0);

  await page.getByLabel('Your email').fill('hank@globex.test');
  await page.getByRole('button', { name: 'Create organization' }).click();
  await expect(page.getByRole('heading', { name: 'Globex', level: 1 })).toBeVisible();

  // Globex invites Acme's owner as an admin…
  await navTo(page, 'Members');
  await hydrated(page);
  const invite = page.locator('form', { has: page.getByRole('button', { name: 'Create invitation link' }) });
  await invite.getByLabel('Email').fill(OWNER.email);
  await invite.getByLabel('Role').selectOption('admin');
  await invite.getByRole('button', { name: 'Create invitation link' }).click();
  const link = (await page.getByTestId('invitation-link').textContent())!.trim();
  await signOut(page);

  // …who accepts it signed in to their own account (nothing about it changes).
  await signIn(page, OWNER.email, OWNER.password);
  await expect(page.getByRole('heading', { name: 'Acme', level: 1 })).toBeVisible();
  await page.goto(link);
  await expect(page.getByRole('heading', { name: 'Join Globex' })).toBeVisible();
  await hydrated(page);
  await page.getByRole('button', { name: 'Accept and join' }).click();
  await expect(page.getByRole('heading', { name: 'Globex', level: 1, exact: true })).toBeVisible();
  const switcher = page.getByLabel('Organization');
  await expect(switcher.locator('option')).toHaveText(['Acme', 'Globex']);
  await navTo(page, 'Members');
  await expect(page.locator('tr[data-email="hank@globex.test"]')).toBeVisible();
  await expect(page.locator(`tr[data-email="${VIEWER.email}"]`)).toHaveCount(0);

  // The next sign-in lands on the organization used last.
  await signOut(page);
  await signIn(page, OWNER.email, OWNER.password);
  await expect(page.getByRole('heading', { name: 'Globex', level: 1 })).toBeVisible();
  await page.getByLabel('Organization').selectOption({ label: 'Acme' });
  await expect(page.getByRole('heading', { name: 'Acme', level: 1 })).toBeVisible();
});

test('changing the password needs the current one and signs out other sessions', async ({ page, browser }) => {
  const other = await browser.newPage();
  await signIn(other, VIEWER.email, VIEWER.password);
  await signIn(page, VIEWER.email, VIEWER.password);
  await page.getByRole('link', { name: 'Your account' }).click();
  await expect(page.getByRole('heading', { name: 'Your account', level: 1 })).toBeVisible();
  await hydrated(page);
  const change = async (current: string, next: string) => {
    await page.getByLabel('Current password').fill(current);
    await page.getByLabel('New password').fill(next);
    await page.getByRole('button', { name: 'Change password' }).click();
  };
  await change('not my password at all', 'a brand new passphrase');
  await expect(page.getByText('This is not your current password.')).toBeVisible();
  await change(VIEWER.password, 'a brand new passphrase');
  await expect(page.getByRole('status')).toContainText('Your other sessions are signed out.');
  // This session carries on; the other one is over.
  await navTo(page, 'Members');
  await expect(page.getByRole('table', { name: 'Members' })).toBeVisible();
  await other.goto('/members');
  await expect(other).toHaveURL(/\/signin$/);
  await other.close();
  // Back to the password the other tests use.
  await page.getByRole('link', { name: 'Your account' }).click();
  await hydrated(page);
  await change('a brand new passphrase', VIEWER.password);
  await expect(page.getByRole('status')).toContainText('Password changed.');
});

test('an owner gives a member a reset link; the member chooses the password', async ({ page, browser }) => {
  await signIn(page, OWNER.email, OWNER.password);
  await navTo(page, 'Members');
  await hydrated(page);
  await page.locator(`tr[data-email="${VIEWER.email}"]`).getByRole('button', { name: 'Reset link' }).click();
  const link = (await page.getByTestId('reset-link').textContent())!.trim();
  expect(link).toMatch(/\/reset\/ghr_/);

  const theirs = await browser.newContext();
  const member = await theirs.newPage();
  await member.goto(link);
  await expect(member.getByRole('heading', { name: 'Choose a new password' })).toBeVisible();
  await hydrated(member);
  // (The same password the other tests use: the member chooses it.)
  await member.getByLabel('New password').fill(VIEWER.password);
  await member.getByRole('button', { name: 'Set password and sign in' }).click();
  await expect(member.getByRole('heading', { name: 'Acme', level: 1, exact: true })).toBeVisible();
  await member.goto(link);
  await hydrated(member);
  await member.getByLabel('New password').fill('a passphrase for nobody');
  await member.getByRole('button', { name: 'Set password and sign in' }).click();
  await expect(member.getByText('invalid, already used', { exact: false })).toBeVisible();
  await theirs.close();
});
