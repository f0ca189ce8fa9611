// Drives the dashboard in Debian's Chromium (playwright-core; no browser is downloaded) for
// tests/serve/test_serve.py. Usage: node e2e/dashboard.mjs <url> <screenshot.png> <stage>
// Prints one JSON line per step on stdout; waits for "go" on stdin between the two steps:
//   1. the page loads, goes live, and the users counter rises   -> {"step":"rising",...}
//   2. (the test stops a service, then writes "go") the stage's card turns red -> {"step":"down",...}
import { drive, say, waitForGo } from "./browser.mjs";

const [url, screenshot, stage] = process.argv.slice(2);
await drive(url, 1300, async (page, failures) => {
  await page.waitForSelector('[data-testid="live"].live:not(.off)', { timeout: 30000 });
  const users = async () => Number((await page.textContent('[data-testid="users"]')).replace(/[^0-9]/g, "") || "0");
  await page.waitForFunction(() => /\d/.test(document.querySelector('[data-testid="users"]').textContent), null, { timeout: 30000 });
  const first = await users();
  await page.waitForFunction(
    (n) => Number(document.querySelector('[data-testid="users"]').textContent.replace(/[^0-9]/g, "")) > n,
    first, { timeout: 90000, polling: 500 });
  const second = await users();
  const states = await page.$$eval("[data-stage]", (els) => Object.fromEntries(els.map((e) => [e.dataset.stage, e.dataset.state])));
  say({ step: "rising", first, second, states });
  await waitForGo();
  await page.waitForSelector(`[data-stage="${stage}"][data-state="down"]`, { timeout: 60000 });
  const color = await page.$eval(`[data-stage="${stage}"]`, (e) => getComputedStyle(e).borderLeftColor);
  const detail = await page.textContent(`[data-stage="${stage}"] .detail`);
  await page.screenshot({ path: screenshot, fullPage: true });
  say({ step: "down", stage, color, detail, failures });
}, () => ({
  live: document.querySelector('[data-testid="live"]')?.textContent,
  stages: Object.fromEntries([...document.querySelectorAll("[data-stage]")].map((e) => [e.dataset.stage, `${e.dataset.state}: ${e.querySelector(".detail")?.textContent}`])),
}));
