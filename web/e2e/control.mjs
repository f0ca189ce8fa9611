// Drives the control room in Debian's Chromium (playwright-core; no browser is downloaded) for
// tests/serve/test_control_room.py. Usage:
//   node e2e/control.mjs <url> <screenshot.png> <token> <cdc topic> <victim: connect | kafka-N>
// Prints one JSON line per step on stdout; waits for "go" on stdin before the last step:
//   1. brokers and topics listed (Brokers & topics tab)              -> {"step":"kafka",...}
//   2. the message browser shows decoded messages of the CDC topic   -> {"step":"messages",...}
//   3. Connect: a restart without the token is refused, with it done -> {"step":"actions",...}
//   4. (the test kills the victim, then writes "go") its row turns red and its alert fires
//      -> {"step":"down","ms":...}; a screenshot is saved
import { drive, say, waitForGo } from "./browser.mjs";

const [url, screenshot, token, cdcTopic, victim] = process.argv.slice(2);
await drive(url, 1400, async (page, failures) => {
  // 1. Two clicks: the nav link, then the tab (the control room opens on Brokers & topics).
  await page.click('[data-testid="nav-control"]');
  await page.click('[data-testid="tab-kafka"]');
  await page.waitForSelector('[data-testid="broker-row"]', { timeout: 30000 });
  await page.waitForSelector(`[data-testid="topic-row"][data-topic="${cdcTopic}"]`, { timeout: 30000 });
  const brokers = await page.$$eval('[data-testid="broker-row"]', (rows) =>
    rows.map((r) => ({ id: Number(r.dataset.broker), up: r.dataset.up === "true", text: r.textContent })));
  const topics = await page.$$eval('[data-testid="topic-row"]', (rows) => rows.map((r) => r.dataset.topic));
  say({ step: "kafka", brokers, topics });

  // 2. The message browser: the CDC topic's last messages, decoded.
  await page.click('[data-testid="tab-messages"]');
  await page.waitForSelector('[data-testid="mb-topic"]', { timeout: 30000 });
  await page.selectOption('[data-testid="mb-topic"]', cdcTopic);
  await page.fill('[data-testid="mb-partition"]', "0");
  await page.click('[data-testid="mb-read"]');
  await page.waitForSelector('[data-testid="message"]', { timeout: 30000 });
  const messages = await page.$$eval('[data-testid="message"]', (els) =>
    els.map((e) => ({ offset: Number(e.dataset.offset), meta: e.querySelector(".meta").textContent, value: e.querySelector(".value").textContent })));
  say({ step: "messages", messages });

  // 3. Connect: restart task 0 without the token (refused), then with it (done, audited).
  await page.click('[data-testid="tab-connect"]');
  await page.waitForSelector('[data-testid="connector-row"]', { timeout: 30000 });
  const connectors = await page.$$eval('[data-testid="connector-row"]', (rows) =>
    rows.map((r) => ({ name: r.dataset.connector, state: r.dataset.state })));
  await page.fill('[data-testid="token"]', "");
  await page.dispatchEvent('[data-testid="token"]', "change");
  await page.click('[data-action="restart"][data-task="0"]');
  await page.waitForSelector('[data-testid="action-result"].bad', { timeout: 30000 });
  const refused = await page.textContent('[data-testid="action-result"]');
  await page.fill('[data-testid="token"]', token);
  await page.dispatchEvent('[data-testid="token"]', "change");
  const clickedAt = Date.now();
  await page.click('[data-action="restart"][data-task="0"]');
  await page.waitForSelector('[data-testid="action-result"].ok', { timeout: 30000 });
  const done = await page.textContent('[data-testid="action-result"]');
  // This restart's own entry (earlier tests may have left others like it in the log).
  await page.waitForFunction((since) => [...document.querySelectorAll('[data-testid="audit-row"]')].some((r) =>
    r.dataset.action === "restart_task" && r.dataset.outcome === "done" && Number(r.dataset.at) >= since), clickedAt, { timeout: 30000 });
  const audit = await page.$$eval('[data-testid="audit-row"]', (rows) =>
    rows.map((r) => ({ action: r.dataset.action, outcome: r.dataset.outcome, at: Number(r.dataset.at), text: r.textContent })));
  say({ step: "actions", connectors, refused, done, audit, clickedAt });

  // 4. The victim dies: its row turns red and its alert fires.
  await waitForGo();
  const started = Date.now();
  const row = victim === "connect"
    ? '[data-testid="worker-row"][data-up="false"]'
    : `[data-testid="broker-row"][data-broker="${victim.split("-")[1]}"][data-up="false"]`;
  if (victim !== "connect") await page.click('[data-testid="tab-kafka"]');
  await page.waitForSelector(row, { timeout: 60000 });
  const rowMs = Date.now() - started;
  await page.waitForSelector(`[data-testid="alert"][data-rule="service_down"][data-subject="${victim}"]`, { timeout: 60000 });
  const alertMs = Date.now() - started;
  const color = await page.$eval(row, (e) => getComputedStyle(e.querySelector("td")).backgroundColor);
  const alert = await page.textContent(`[data-testid="alert"][data-subject="${victim}"]`);
  await page.screenshot({ path: screenshot, fullPage: true });
  say({ step: "down", victim, rowMs, alertMs, color, alert, failures });
}, () => ({
  pane: document.querySelector('[data-testid="control-pane"]')?.textContent?.slice(0, 2000),
  result: document.querySelector('[data-testid="action-result"]')?.textContent,
  alerts: document.querySelector('[data-testid="alert-bar"]')?.textContent,
}));
