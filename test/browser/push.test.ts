// The reader's alerts with the page closed, in a real Chromium: the opt-in
// dialog, and the service worker showing what the server pushes (delivered
// here through the browser's DevTools, since headless Chromium reaches no
// push service), a withdrawal replacing its alert.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, startServer, type TestServer } from '../support/server.ts';
import { launchBrowser, openPage, waitForState } from './browser.ts';

describe('alerts with the page closed', () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
  });
  afterAll(async () => {
    try {
      await browser?.close();
    } finally {
      await cleanup();
    }
  });

  it('offers the choices, and the service worker shows an alert and replaces it with its withdrawal', async () => {
    // Subscribing needs a push service this machine cannot reach (and a browser profile that is not private).
    const watched = await openPage(browser, `${server.url}/?topics=world`, { allow: ['push service', 'Registration failed', 'Push API in incognito'] });
    const { page } = watched;
    await watched.context.grantPermissions(['notifications'], { origin: server.url });
    await waitForState(page, 'live');
    const toggle = page.locator('#push-toggle');
    await toggle.waitFor({ state: 'visible' });
    await toggle.click();
    const dialog = page.getByRole('dialog', { name: 'Alerts when this page is closed' });
    await dialog.waitFor();
    await dialog.getByLabel('Flash only').check();
    expect(await dialog.getByLabel('world').isChecked()).toBe(true);
    await dialog.getByRole('button', { name: 'Turn alerts on' }).click();
    await expect.poll(() => dialog.getByRole('status').textContent()).toMatch(/^(Alerts are on|Alerts could not be turned on in this browser: )/);
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'hidden' });

    // The service worker, given pushes as the server sends them.
    await page.evaluate(async () => {
      await navigator.serviceWorker.register('/assets/sw.js', { scope: '/assets/' });
      await navigator.serviceWorker.getRegistration('/assets/').then((r) => r?.active ?? new Promise((resolve) => r?.installing?.addEventListener('statechange', resolve)));
    });
    const cdp = await watched.context.newCDPSession(page);
    const registered = new Promise<string>((resolve) =>
      cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
        const mine = registrations.find((r: { scopeURL: string }) => r.scopeURL.endsWith('/assets/'));
        if (mine) resolve(mine.registrationId);
      }),
    );
    await cdp.send('ServiceWorker.enable');
    const registrationId = await registered;
    const push = (message: Record<string, unknown>) =>
      cdp.send('ServiceWorker.deliverPushMessage', { origin: server.url, registrationId, data: JSON.stringify(message) });
    const shown = () =>
      page.evaluate(async () => {
        const registration = await navigator.serviceWorker.getRegistration('/assets/');
        return (await registration?.getNotifications())?.map((n) => ({ title: n.title, body: n.body, tag: n.tag, url: n.data?.url })) ?? [];
      });
    await push({ kind: 'alert', id: 'sw-1', tag: 'sw-1', title: 'Flash: Dam breaks upstream', body: 'Evacuations ordered.', url: `${server.url}/items/sw-1`, priority: 'flash' });
    await expect.poll(shown).toEqual([{ title: 'Flash: Dam breaks upstream', body: 'Evacuations ordered.', tag: 'sw-1', url: `${server.url}/items/sw-1` }]);
    await push({ kind: 'withdrawn', id: 'sw-1', tag: 'sw-1', title: 'Story withdrawn', body: 'Not confirmed', url: `${server.url}/items/sw-1` });
    await expect.poll(shown).toEqual([{ title: 'Story withdrawn', body: 'Not confirmed', tag: 'sw-1', url: `${server.url}/items/sw-1` }]);
    expect(watched.problems).toEqual([]);
    await watched.close();
  });
});
