// Drives the Strata console in headless Chromium as a person would, for ConsoleTest: every page loads without
// errors, shows what the test made (a topic, records, a group behind), the record browser finds records by offset
// and by key, and an admin action needs its confirmation. Prints one JSON line; exits 1 when a check fails.
// Settings come from the environment (ConsoleTest sets them); screenshots go to $SCREENSHOTS.
import puppeteer from 'puppeteer-core';
import fs from 'node:fs';
import path from 'node:path';

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};
// MODE=sign-in only signs in (a node that requires authentication, over TLS with a test CA) and sees the cluster.
const signInOnly = process.env.MODE === 'sign-in';
const url = env('CONSOLE_URL');
const nodeId = env('NODE_ID');
const [topic, group, key, keyPartition, keyValue, offsetPartition, offset, offsetValue, records] = signInOnly ? []
  : ['TOPIC', 'GROUP', 'KEY', 'KEY_PARTITION', 'KEY_VALUE', 'OFFSET_PARTITION', 'OFFSET', 'OFFSET_VALUE', 'RECORDS'].map(n => env(n));
const shots = env('SCREENSHOTS');
const user = process.env.CONSOLE_USER;
const password = process.env.CONSOLE_PASSWORD;
fs.mkdirSync(shots, { recursive: true });

const failures = [];
const passed = [];
const check = (ok, what) => { (ok ? passed : failures).push(what); };
const errors = [];

async function walk() {
  page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  page.setDefaultTimeout(timeout);
  page.on('console', m => { if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()}`); });
  page.on('pageerror', e => errors.push(`${page.url()}: ${e.message}`));

  const text = (selector) => page.$eval(selector, el => el.innerText);
  const waitText = async (selector, wanted) => {
    await page.waitForFunction((s, w) => { const el = document.querySelector(s); return el && el.innerText.includes(w); },
      { timeout }, selector, wanted);
  };
  // A button below panels that fill in as their calls answer: a click at its coordinates can land where it was a
  // moment before the panel above grew (seen on a slow machine: the delete confirmation never opened). The DOM
  // click reaches the button wherever it is.
  const press = (selector) => page.$eval(selector, b => b.click());
  const shot = async (name) => page.screenshot({ path: path.join(shots, name + '.png'), fullPage: true });
  const visit = async (hash) => {
    await page.goto(url + hash, { waitUntil: 'networkidle0' });
  };
  const api = (method, body) => page.evaluate(async (m, b) => {
    const headers = { 'Content-Type': 'application/json' };
    const auth = sessionStorage.getItem('strata.auth');
    if (auth) headers.Authorization = auth;
    const r = await fetch('api/' + m, { method: 'POST', headers, body: JSON.stringify(b) });
    return { status: r.status, body: await r.json() };
  }, method, body);

  // Sign in when the node asks for it.
  await visit('#/cluster');
  if (user) {
    await page.waitForSelector('[data-testid=login]');
    check(true, 'a node that requires authentication shows the sign-in form');
    await shot('00-sign-in');
    await page.type('[data-testid=login-user]', user);
    await page.type('[data-testid=login-password]', password);
    await page.click('[data-testid=login] button[type=submit]');
    await page.waitForSelector('[data-testid=nodes]');
    // The browser logs the calls refused before signing in (HTTP 401): expected there, not a fault of the page.
    errors.length = 0;
  }

  // Cluster
  await waitText('[data-testid=nodes]', nodeId);
  if (signInOnly) {
    await waitText('#who', 'Signed in as');
    const who = await text('#who');
    check(who.includes('Signed in as ' + 'User:' + user), `signed in as User:${user} (the page says "${who}")`);
    await shot('01-cluster-signed-in');
    return;
  }
  const cluster = await text('[data-testid=cluster]');
  const healthy = (cluster.match(/\bhealthy\b/g) || []).length;
  check(healthy === 2 && !cluster.includes('unreachable'), `the cluster page shows both stores healthy (${healthy} of 2)`);
  const nodeRow = await page.$$eval('[data-testid=nodes] tbody tr', (rows, id) =>
    rows.map(r => Array.from(r.cells, c => c.innerText)).find(c => c[0] === id), nodeId);
  check(nodeRow && /ingest/.test(nodeRow[2]) && /fetch/.test(nodeRow[2]) && /\d+\.\d+/.test(nodeRow[4]),
    `the cluster page shows the node with its roles and version (${JSON.stringify(nodeRow)})`);
  await shot('01-cluster');

  // Topics
  await visit('#/topics');
  await waitText('[data-testid=topics-table]', topic);
  const row = await page.$$eval('[data-testid=topics-table] tbody tr', (rows, t) =>
    rows.map(r => Array.from(r.cells, c => c.innerText)).find(c => c[0] === t), topic);
  check(row && row[2].replace(/,/g, '') === records, `the topics page shows ${records} records stored in ${topic} (saw ${row && row[2]})`);
  // Bytes stored come from compaction's measures (a pass every 2 s here): the page refreshes itself until they show.
  await page.waitForFunction(t => Array.from(document.querySelectorAll('[data-testid=topics-table] tbody tr'))
    .some(r => r.cells[0].innerText === t && /^\d+(\.\d)? (B|KiB|MiB)$/.test(r.cells[3].innerText)), { timeout }, topic);
  const described = await api('strata.v1.AdminService/DescribeTopic', { name: topic });
  const storedBytes = Number(described.body.storedBytes || 0);
  const shown = await page.$$eval('[data-testid=topics-table] tbody tr', (rows, t) =>
    rows.map(r => Array.from(r.cells, c => c.innerText)).find(c => c[0] === t)[3], topic);
  check(storedBytes > 0 && Number(described.body.storedBytesMeasuredAtMs) > 0,
    `compaction measured the bytes ${topic} stores (${storedBytes}) and the topics page shows them (${shown})`);
  await shot('02-topics');

  // A topic's page
  await visit('#/topics/' + encodeURIComponent(topic));
  await page.waitForSelector('[data-testid=partitions] tbody tr');
  const partitions = await page.$$eval('[data-testid=partitions] tbody tr', rows => rows.length);
  check(partitions >= 1, `the topic page lists its partitions (${partitions})`);
  await page.waitForSelector('[data-testid=topic-rate-chart]');
  await shot('03-topic');

  // Records by offset
  await visit(`#/records?topic=${encodeURIComponent(topic)}&partition=${offsetPartition}&offset=${offset}`);
  await page.waitForSelector('[data-testid=records-table] tbody tr');
  const first = await page.$eval('[data-testid=records-table] tbody tr', r => Array.from(r.cells, c => c.innerText));
  check(first[0] === offset && first[3].includes(offsetValue),
    `the record browser reads offset ${offset} of partition ${offsetPartition} (saw offset ${first[0]}, value ${first[3].slice(0, 60)})`);
  await page.select('[data-testid=browse-format]', 'json');
  await page.click('[data-testid=browse-go]');
  await page.waitForSelector('[data-testid=records-table] tbody tr');
  const pretty = await page.$eval('[data-testid=records-table] tbody tr td:nth-child(4)', c => c.innerText);
  check(pretty.includes('\n'), 'JSON values are shown pretty-printed');
  await shot('04-records-by-offset');

  // Records by key
  await visit(`#/records?topic=${encodeURIComponent(topic)}&partition=${keyPartition}&mode=key&key=${encodeURIComponent(key)}`);
  await waitText('[data-testid=records-note]', `with key "${key}"`);
  const found = await page.$$eval('[data-testid=records-table] tbody tr', rows => rows.map(r => Array.from(r.cells, c => c.innerText)));
  check(found.length === 1 && found[0][2] === key && found[0][3].includes(keyValue),
    `the record browser finds the record with key ${key} (saw ${JSON.stringify(found).slice(0, 200)})`);
  await shot('05-records-by-key');

  // Groups
  await visit('#/groups');
  await waitText('[data-testid=groups-table]', group);
  await shot('06-groups');
  await visit('#/groups/' + encodeURIComponent(group));
  await page.waitForSelector('[data-testid=group-lag]');
  const lag = Number((await text('[data-testid=group-lag]')).replace(/,/g, ''));
  check(lag > 0, `the group page shows ${group} behind (lag ${lag})`);
  await page.waitForSelector('[data-testid=group-lag-chart]');
  // The page redraws its chart every few seconds: wait (a while) for points that show the lag growing.
  const chartOf = () => page.$eval('[data-testid=group-lag-chart]', el => ({ points: Number(el.dataset.points), first: Number(el.dataset.first), last: Number(el.dataset.last) }));
  await page.waitForFunction(() => {
    const el = document.querySelector('[data-testid=group-lag-chart]');
    return el && Number(el.dataset.points) >= 2 && Number(el.dataset.last) > Number(el.dataset.first);
  }, { timeout: 30000 }).catch(() => {});
  const chart = await chartOf();
  check(chart.points >= 2 && chart.last > chart.first, `the group's lag chart shows its lag growing (${JSON.stringify(chart)})`);
  await shot('07-group');

  // Compaction: the node's worker wrote down its passes
  await visit('#/compaction');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=compaction-passes] tbody tr td.num').length > 0,
    { timeout: 30000 }).catch(() => {});
  const workers = await page.$$eval('[data-testid=compaction-passes] tbody tr', rows => rows.map(r => r.cells[0].innerText));
  check(workers.includes(nodeId), `the compaction page shows the worker's last pass (${JSON.stringify(workers)})`);
  await shot('08-compaction');

  // Share groups and transactions load
  await visit('#/shares');
  await page.waitForSelector('[data-testid=share-groups]');
  await shot('09-share-groups');
  await visit('#/transactions');
  await page.waitForSelector('[data-testid=transactions-table]');
  await page.waitForSelector('[data-testid=half-table]');
  await shot('10-transactions');

  // An admin action needs its confirmation: cancelled, nothing happens; confirmed, the topic exists.
  const made = 'console-made';
  await visit('#/topics');
  await page.waitForSelector('[data-testid=create-topic]');
  await page.type('[data-testid=new-topic-name]', made);
  await press('[data-testid=create-topic] button[type=submit]');
  await page.waitForSelector('[data-testid=confirm-dialog][open]');
  await shot('11-confirm');
  await page.click('[data-testid=confirm-cancel]');
  await new Promise(r => setTimeout(r, 500));
  let listed = (await api('strata.v1.AdminService/ListTopics', {})).body.topics.map(t => t.name);
  check(!listed.includes(made), 'a cancelled confirmation creates no topic');
  await press('[data-testid=create-topic] button[type=submit]');
  await page.waitForSelector('[data-testid=confirm-dialog][open]');
  await page.click('[data-testid=confirm-ok]');
  await waitText('[data-testid=topics-table]', made);
  listed = (await api('strata.v1.AdminService/ListTopics', {})).body.topics.map(t => t.name);
  check(listed.includes(made), 'a confirmed action creates the topic');

  // Deleting asks for the topic's name before it may be confirmed.
  await visit('#/topics/' + made);
  await page.waitForSelector('[data-testid=delete-topic]');
  await press('[data-testid=delete-topic]');
  await page.waitForSelector('[data-testid=confirm-dialog][open]');
  check(await page.$eval('[data-testid=confirm-ok]', b => b.disabled), 'delete cannot be confirmed before the name is typed');
  await page.type('#confirm-input', made);
  await page.click('[data-testid=confirm-ok]');
  await page.waitForFunction(() => location.hash === '#/topics');
  listed = (await api('strata.v1.AdminService/ListTopics', {})).body.topics.map(t => t.name);
  check(!listed.includes(made), 'a confirmed delete removes the topic');
  await shot('12-after-delete');
}

const browser = await puppeteer.launch({
  executablePath: env('CHROMIUM', '/usr/bin/chromium'),
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'].concat(signInOnly ? ['--ignore-certificate-errors'] : []),
});
const timeout = 20000;
let page;
try {
  await walk();
} catch (e) {
  failures.push('the walk through the console stopped: ' + (e.stack || e));
  if (page) await page.screenshot({ path: path.join(shots, 'failed.png'), fullPage: true }).catch(() => {});
} finally {
  await browser.close();
}
check(errors.length === 0, 'no page logged an error' + (errors.length ? ': ' + errors.join(' | ') : ''));
console.log(JSON.stringify({ passed, failures }));
process.exit(failures.length ? 1 : 0);
