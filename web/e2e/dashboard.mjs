// Drives the dashboard in Debian's Chromium (playwright-core; no browser is downloaded) for
// tests/serve/test_dashboard.py. Usage: node e2e/dashboard.mjs <url> <screenshot.png> <stage>
// Prints one JSON line per step on stdout; waits for "go" on stdin between the two steps:
//   1. the page loads, goes live, and the users counter rises   -> {"step":"rising",...}
//   2. (the test stops a service, then writes "go") the stage's card turns red -> {"step":"down",...}
import { chromium } from "playwright-core";
import { createInterface } from "node:readline";

const [url, screenshot, stage] = process.argv.slice(2);
const say = (o) => console.log(JSON.stringify(o));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const failures = [];
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1300 } });
  page.on("pageerror", (e) => failures.push(String(e)));
  page.on("requestfailed", (r) => {
    if (!r.url().startsWith(new URL(url).origin)) failures.push("external request: " + r.url());
  });
  await page.goto(url);
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
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) if (line.trim() === "go") break;
  rl.close();
  process.stdin.destroy();  // else the open stdin keeps node alive after the browser closes
  await page.waitForSelector(`[data-stage="${stage}"][data-state="down"]`, { timeout: 60000 });
  const color = await page.$eval(`[data-stage="${stage}"]`, (e) => getComputedStyle(e).borderLeftColor);
  const detail = await page.textContent(`[data-stage="${stage}"] .detail`);
  await page.screenshot({ path: screenshot, fullPage: true });
  say({ step: "down", stage, color, detail, failures });
} catch (e) {
  // What the page showed when it gave up, to tell a slow server from a wrong panel.
  const pages = browser.contexts().flatMap((c) => c.pages());
  let seen = null;
  if (pages.length) {
    seen = await pages[0].evaluate(() => ({
      live: document.querySelector('[data-testid="live"]')?.textContent,
      stages: Object.fromEntries([...document.querySelectorAll("[data-stage]")].map((e) => [e.dataset.stage, `${e.dataset.state}: ${e.querySelector(".detail")?.textContent}`])),
    })).catch(() => null);
  }
  say({ step: "error", error: String(e), seen, failures });
  process.exitCode = 1;
} finally {
  await browser.close();
}
