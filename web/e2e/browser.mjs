// What the browser scripts share: Debian's Chromium through playwright-core (no browser is
// downloaded), one JSON line per step on stdout, and the wait for "go" on stdin.
import { chromium } from "playwright-core";
import { createInterface } from "node:readline";

export const say = (o) => console.log(JSON.stringify(o));

// Opens `url` in a page `height` pixels tall and runs `steps(page, failures)`. `failures` collects
// the page's script errors and any request to another origin (the pages fetch nothing from
// elsewhere). When a step throws, prints {"step":"error"} with what `seen` reads off the page at
// that moment (to tell a slow server from a wrong panel) and exits 1. The browser always closes.
export async function drive(url, height, steps, seen) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  const failures = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height } });
    page.on("pageerror", (e) => failures.push(String(e)));
    page.on("requestfailed", (r) => {
      if (!r.url().startsWith(new URL(url).origin)) failures.push("external request: " + r.url());
    });
    await page.goto(url);
    await steps(page, failures);
  } catch (e) {
    const pages = browser.contexts().flatMap((c) => c.pages());
    const shown = pages.length ? await pages[0].evaluate(seen).catch(() => null) : null;
    say({ step: "error", error: String(e), seen: shown, failures });
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

// Returns once the test writes "go" on stdin (after it broke something for the last step).
export async function waitForGo() {
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) if (line.trim() === "go") break;
  rl.close();
  process.stdin.destroy(); // else the open stdin keeps node alive after the browser closes
}
