// Steps that bring the newsroom console to a state worth checking or showing
// (the accessibility suite checks these states; the screenshots show them).
import type { Page } from 'playwright-core';

/** Sends the form with topics the server refuses: the form shows its field errors. */
export async function showFieldErrors(page: Page, topics: string): Promise<void> {
  await page.locator('#f-topics').fill(topics);
  await page.locator('#submit').click();
  await page.locator('#error-summary').waitFor();
}

/** The flash path from the keyboard, up to its confirmation, which is left open. */
export async function openFlashConfirmation(page: Page, headline: string, topics: string): Promise<void> {
  await page.keyboard.press('Alt+Shift+F');
  await page.keyboard.type(headline);
  await page.locator('#flash-topics').fill(topics);
  await page.locator('#flash-headline').press('Enter');
  await page.locator('#flash-dialog[open]').waitFor();
}
