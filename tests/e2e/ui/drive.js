#!/usr/bin/env node
// Drives `zenc ui` with headless Chromium (playwright-core, Debian's
// chromium) for tests/e2e/t0900-ui.sh.  Checks what a person would see:
// the runs list with each run's status, and the failed run's page with
// the failed step drawn in the failure colour, its error and its hook
// runs; keeps a screenshot of that page.  Also checks that no page asks
// for anything outside the dashboard.
//
// usage: node drive.js --base URL --profile DIR --screenshot FILE
//          --completed ID --failed ID --running ID
//          --step NAME --error TEXT --hook NAME
// Exit 0 when every check passed; 1 with "FAIL: ..." otherwise.
'use strict';

const { chromium } = require('playwright-core');

function parseArgs(argv) {
  const out = {};
  for (let i = 2; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) {
      throw new Error(`bad argument '${argv[i]}'`);
    }
    out[argv[i].slice(2)] = argv[i + 1];
  }
  for (const k of ['base', 'profile', 'screenshot', 'completed', 'failed',
    'running', 'step', 'error', 'hook']) {
    if (!out[k]) throw new Error(`missing --${k}`);
  }
  return out;
}

const FAILED_FILL = '#d93025';

function check(cond, what) {
  if (!cond) throw new Error(what);
  console.log(`ok: ${what}`);
}

async function main() {
  const a = parseArgs(process.argv);
  const browser = await chromium.launchPersistentContext(a.profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
      '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  const foreign = [];
  try {
    const page = browser.pages()[0] || await browser.newPage();
    page.on('request', (req) => {
      const url = req.url();
      if (!url.startsWith(a.base) && !url.startsWith('data:')) {
        foreign.push(url);
      }
    });

    // The runs list: the three runs, each with its status.
    let resp = await page.goto(`${a.base}/`);
    check(resp.status() === 200, 'runs list answers 200');
    const rows = await page.$$eval('tr.run', (trs) => trs.map((tr) => ({
      id: tr.getAttribute('data-run'),
      status: tr.getAttribute('data-status'),
      badge: tr.querySelector('.badge').textContent.trim(),
    })));
    for (const [id, want] of [[a.completed, 'completed'],
      [a.failed, 'failed'], [a.running, 'running']]) {
      const row = rows.find((r) => r.id === id);
      check(row, `runs list shows run ${id}`);
      check(row.status === want && row.badge === want,
        `run ${id} is shown ${want} (shown: ${row.status}/${row.badge})`);
    }
    const order = rows.map((r) => r.id);
    check(order.indexOf(a.running) < order.indexOf(a.failed) &&
      order.indexOf(a.failed) < order.indexOf(a.completed),
      'runs are listed newest first');

    // Filter by status through the form.
    await page.selectOption('select[name=status]', 'failed');
    await Promise.all([page.waitForNavigation(),
      page.click('form.filter button[type=submit]')]);
    const filtered = await page.$$eval('tr.run',
      (trs) => trs.map((tr) => tr.getAttribute('data-status')));
    check(filtered.length >= 1 && filtered.every((s) => s === 'failed'),
      `status filter shows failed runs only (${filtered.join(',')})`);

    // The failed run's page, reached by clicking its link.
    await page.goto(`${a.base}/`);
    await Promise.all([page.waitForNavigation(),
      page.click(`tr.run[data-run="${a.failed}"] td a`)]);
    check(page.url() === `${a.base}/runs/${a.failed}`,
      `the run link leads to /runs/${a.failed}`);
    const node = page.locator(`svg.dag g.node[data-step="${a.step}"]`);
    check(await node.count() === 1, `the DAG draws step ${a.step}`);
    check(await node.getAttribute('data-status') === 'failed',
      `step ${a.step} is drawn failed`);
    const fill = await node.locator('rect').getAttribute('fill');
    check(fill === FAILED_FILL, `step ${a.step} is ${FAILED_FILL} (is ${fill})`);
    const rendered = await node.locator('rect').evaluate(
      (r) => getComputedStyle(r).fill);
    check(rendered === 'rgb(217, 48, 37)',
      `step ${a.step} renders red (computed fill ${rendered})`);
    const title = await node.locator('title').textContent();
    check(title.includes(a.error), `the node's tooltip holds the error: ${title}`);
    const edges = await page.$$eval('svg.dag g.edges path', (ps) => ps.length);
    check(edges >= 2, `the DAG draws its edges (${edges})`);

    const section = page.locator(`section.step[data-step="${a.step}"]`);
    const errText = await section.locator('pre.step-error').textContent();
    check(errText.includes(a.error), `the step shows its error: ${errText}`);
    const hooks = await section.locator('table.hooks tr.hook').allTextContents();
    check(hooks.some((h) => h.includes(a.hook) && h.includes('on_failure')),
      `the step shows its on_failure hook run ${a.hook}: ${hooks.join(' | ')}`);
    check(await page.locator('meta[http-equiv=refresh]').count() === 0,
      'a finished run\'s page does not refresh itself');

    await page.screenshot({ path: a.screenshot, fullPage: true });
    console.log(`screenshot: ${a.screenshot}`);

    // The running run's page refreshes itself every 2 s.
    resp = await page.goto(`${a.base}/runs/${a.running}`);
    check(resp.status() === 200, 'running run page answers 200');
    const refresh = await page.locator('meta[http-equiv=refresh]')
      .getAttribute('content');
    check(refresh === '2', `a running run's page refreshes every 2 s (${refresh})`);
    const running = await page.$$eval('svg.dag g.node[data-status=running]',
      (ns) => ns.length);
    check(running >= 1, 'the running run draws a running step');

    check(foreign.length === 0,
      `no request leaves the dashboard (${foreign.join(', ')})`);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.log(`FAIL: ${e.message}`);
  process.exit(1);
});
