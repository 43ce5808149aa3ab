// The Strata console: one page, no framework, no build step. Every figure comes from the node's own gRPC
// services, called in JSON at api/<package.Service>/<Method> (Connect's unary protocol) with the signed-in
// caller's credentials, so the console sees and may do exactly what that caller may through any client.

const REFRESH_MS = 5000;
const PAGE_BYTES = 256 * 1024; // one record page; the node caps it again (strata.console.max-fetch-bytes)
const KEY_SEARCH_PAGES = 16; // a key search reads at most this many pages before it asks to go on

// ---------- calls ----------

class CallError extends Error {
  constructor(code, message) { super(message || code); this.code = code; }
}

function credentials() { return sessionStorage.getItem('strata.auth'); }

async function rpc(method, body = {}) {
  const headers = { 'Content-Type': 'application/json', 'Connect-Protocol-Version': '1' };
  const auth = credentials();
  if (auth) headers['Authorization'] = auth;
  const res = await fetch('api/' + method, { method: 'POST', headers, body: JSON.stringify(body) });
  let answer;
  try { answer = await res.json(); } catch (e) { answer = { code: 'unknown', message: res.status + ' ' + res.statusText }; }
  if (!res.ok) {
    if (res.status === 401) { showLogin(answer.message); }
    throw new CallError(answer.code || 'unknown', answer.message || res.statusText);
  }
  return answer;
}

const Admin = 'strata.v1.AdminService/';
const Cluster = 'strata.v1.ClusterService/';
const Groups = 'strata.v1.GroupService/';
const Fetch = 'strata.v1.FetchService/';
const Shares = 'strata.v1.ShareService/';
const Txn = 'strata.v1.TransactionService/';

// ---------- building the page ----------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const num = (v) => Number(v || 0);
const fmt = (v) => num(v).toLocaleString('en-US');

function bytes(n) {
  n = num(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(1)) + ' ' + units[i];
}

function duration(ms) {
  ms = num(ms);
  if (ms <= 0) return '—';
  const s = Math.floor(ms / 1000);
  if (s < 1) return Math.round(ms) + ' ms';
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
}

function retention(ms) { return num(ms) < 0 ? 'forever' : duration(ms); }
function time(ms) { return num(ms) > 0 ? new Date(num(ms)).toISOString().replace('T', ' ').replace('Z', ' UTC') : '—'; }

function table(columns, rows, testid) {
  return h('table', { 'data-testid': testid },
    h('thead', {}, h('tr', {}, columns.map(c => h('th', { class: c.num ? 'num' : '' }, c.title)))),
    h('tbody', {}, rows.length === 0
      ? h('tr', {}, h('td', { colspan: columns.length, class: 'muted' }, 'None'))
      : rows.map(r => h('tr', {}, columns.map(c => h('td', { class: c.num ? 'num' : '' }, c.cell(r)))))));
}

function errorBox(e) { return h('div', { class: 'error', 'data-testid': 'error' }, e.code ? `${e.code}: ${e.message}` : String(e)); }

function kv(pairs) { return h('dl', { class: 'kv' }, pairs.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])); }

// ---------- charts (SVG, drawn here) ----------

const SVG = 'http://www.w3.org/2000/svg'; // a namespace name, never fetched

function sparkline(points, width = 120, height = 26) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);
  if (points.length < 2) return svg;
  const max = Math.max(...points.map(p => p.v), 1);
  const t0 = points[0].t, t1 = points[points.length - 1].t || t0 + 1;
  const d = points.map((p, i) => `${i ? 'L' : 'M'}${((p.t - t0) / Math.max(1, t1 - t0) * (width - 2) + 1).toFixed(1)},${(height - 2 - p.v / max * (height - 4)).toFixed(1)}`).join('');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', d);
  path.setAttribute('class', 'line');
  svg.append(path);
  return svg;
}

function lineChart(points, { width = 720, height = 200, unit = '', testid } = {}) {
  const ns = SVG;
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'chart');
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);
  if (testid) svg.setAttribute('data-testid', testid);
  svg.setAttribute('data-points', String(points.length));
  svg.setAttribute('data-first', points.length ? String(points[0].v) : '');
  svg.setAttribute('data-last', points.length ? String(points[points.length - 1].v) : '');
  const left = 56, right = 10, top = 10, bottom = 22;
  const text = (x, y, s, anchor = 'start') => {
    const t = document.createElementNS(ns, 'text');
    t.setAttribute('x', x); t.setAttribute('y', y); t.setAttribute('text-anchor', anchor);
    t.textContent = s; svg.append(t);
  };
  if (points.length === 0) { text(left, height / 2, 'No points yet: the node samples every few seconds'); return svg; }
  const max = Math.max(...points.map(p => p.v), 1);
  const t0 = points[0].t, t1 = Math.max(points[points.length - 1].t, t0 + 1);
  const x = (t) => left + (t - t0) / (t1 - t0) * (width - left - right);
  const y = (v) => top + (1 - v / max) * (height - top - bottom);
  for (const f of [0, 0.5, 1]) {
    const line = document.createElementNS(ns, 'line');
    line.setAttribute('x1', left); line.setAttribute('x2', width - right);
    line.setAttribute('y1', y(max * f)); line.setAttribute('y2', y(max * f));
    line.setAttribute('class', 'grid'); svg.append(line);
    text(left - 6, y(max * f) + 3, fmt(Math.round(max * f)) + unit, 'end');
  }
  text(left, height - 6, new Date(t0).toLocaleTimeString());
  text(width - right, height - 6, new Date(t1).toLocaleTimeString(), 'end');
  const d = points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
  const area = document.createElementNS(ns, 'path');
  area.setAttribute('d', `${d}L${x(points[points.length - 1].t).toFixed(1)},${y(0)}L${x(t0).toFixed(1)},${y(0)}Z`);
  area.setAttribute('class', 'area'); svg.append(area);
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', d); path.setAttribute('class', 'line'); svg.append(path);
  return svg;
}

function seriesPoints(s) { return (s.timesMs || []).map((t, i) => ({ t: num(t), v: num(s.values[i]) })); }

/** Per-second rates from a counter's points (a counter that went down, a topic re-created, restarts the rate). */
function rates(points) {
  const out = [];
  for (let i = 1; i < points.length; i++) {
    const dt = (points[i].t - points[i - 1].t) / 1000;
    if (dt > 0) out.push({ t: points[i].t, v: Math.max(0, points[i].v - points[i - 1].v) / dt });
  }
  return out;
}

// ---------- confirmation and sign-in ----------

function confirmAction(text, word) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  const label = document.getElementById('confirm-type-label');
  const input = document.getElementById('confirm-input');
  const ok = document.getElementById('confirm-ok');
  label.hidden = !word;
  input.value = '';
  document.getElementById('confirm-word').textContent = word || '';
  ok.disabled = !!word;
  input.oninput = () => { ok.disabled = input.value !== word; };
  return new Promise(resolve => {
    dialog.onclose = () => resolve(dialog.returnValue === 'ok');
    dialog.returnValue = 'cancel';
    dialog.showModal();
  });
}

function showLogin(message) {
  const main = document.getElementById('main');
  stopRefresh();
  const user = h('input', { name: 'user', autocomplete: 'username', 'data-testid': 'login-user' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', 'data-testid': 'login-password' });
  const token = h('input', { name: 'token', placeholder: 'or a bearer token' });
  main.replaceChildren(h('div', { class: 'card' }, h('h1', {}, 'Sign in'),
    h('p', { class: 'note' }, message || 'This node requires authentication.'),
    h('form', {
      class: 'inline', 'data-testid': 'login', onsubmit: (ev) => {
        ev.preventDefault();
        const value = token.value.trim() ? 'Bearer ' + token.value.trim()
          : 'Basic ' + btoa(unescape(encodeURIComponent(user.value + ':' + password.value)));
        sessionStorage.setItem('strata.auth', value);
        route();
      }
    }, h('label', {}, 'User', user), h('label', {}, 'Password', password), h('label', {}, 'Token', token),
    h('button', { class: 'primary', type: 'submit' }, 'Sign in'))));
}

async function showWho() {
  const who = document.getElementById('who');
  try {
    const me = await rpc('strata.v1.SecurityService/WhoAmI');
    who.replaceChildren(me.principal ? 'Signed in as ' + me.principal : '',
      credentials() ? h('button', { onclick: () => { sessionStorage.removeItem('strata.auth'); location.reload(); } }, 'Sign out') : '');
  } catch (e) { who.textContent = ''; }
}

// ---------- pages ----------

// A page refreshes its panels every few seconds, each load after the last one ended (a slow store never piles
// loads up); leaving the page stops it.
let refreshTimer = null;
let refreshRun = 0;
function stopRefresh() { if (refreshTimer) clearTimeout(refreshTimer); refreshTimer = null; refreshRun++; }
function every(load) {
  stopRefresh();
  const run = refreshRun;
  const step = async () => {
    try { await load(); } finally { if (run === refreshRun) refreshTimer = setTimeout(step, REFRESH_MS); }
  };
  step();
}
// Which navigation is current: a page that awaited something renders only if it is still the one shown.
let generation = 0;

/** A panel that a page fills and refills; an error shows in it, the rest of the page stays. */
function panel(testid) { return h('div', { 'data-testid': testid }); }
async function fill(target, build) {
  try { target.replaceChildren(...[await build()].flat()); } catch (e) { if (e.code !== 'unauthenticated') target.replaceChildren(errorBox(e)); }
}

async function clusterPage(main) {
  const body = panel('cluster');
  main.replaceChildren(h('h1', {}, 'Cluster'), body);
  every(() => fill(body, async () => {
    // The stores' health is for who may describe the cluster: others see the nodes.
    const c = await rpc(Cluster + 'DescribeCluster', { includeHealth: true }).catch(e => {
      if (e.code === 'permission_denied') return rpc(Cluster + 'DescribeCluster', {});
      throw e;
    });
    const now = Date.now();
    const store = (s) => s ? [h('span', { class: s.healthy ? 'ok' : 'bad' }, s.healthy ? 'healthy' : 'unreachable'),
      ' ', h('span', { class: 'muted' }, `${s.kind} · ${s.detail}${s.healthy ? ' · ' + s.latencyMs + ' ms' : ''}`)] : '—';
    return [h('div', { class: 'card' }, kv([['Cluster id', c.clusterId], ['Metadata shards', c.metadataShards],
      ['Answered by', c.answeredBy], ['Metadata store', store(c.metadataStore)], ['Object store', store(c.objectStore)]])),
      h('h2', {}, `Live nodes (${c.nodes.length})`),
      h('p', { class: 'note' }, 'Nodes registered in the metadata store: a node registers once it is ready and its registration ends with its lease when it stops or dies.'),
      table([
        { title: 'Node', cell: n => n.nodeId }, { title: 'Address', cell: n => n.address },
        { title: 'Roles', cell: n => n.roles.map(r => h('span', { class: 'tag' }, r)) },
        { title: 'Zone', cell: n => n.zone || '—' }, { title: 'Version', cell: n => n.version || '—' },
        { title: 'Kafka', cell: n => n.kafkaAddress || '—' },
        { title: 'Up', num: true, cell: n => duration(now - num(n.startedAtMs)) }], c.nodes, 'nodes')];
  }));
}

async function history(names, filter = {}) {
  try { return await rpc(Cluster + 'DescribeHistory', { names, ...filter }); } catch (e) { return { series: [] }; }
}

async function topicsPage(main) {
  const list = panel('topics');
  const name = h('input', { name: 'name', required: true, 'data-testid': 'new-topic-name' });
  const partitions = h('input', { name: 'partitions', type: 'number', min: 1, value: 3, 'data-testid': 'new-topic-partitions' });
  const hours = h('input', { name: 'retention', type: 'number', min: -1, placeholder: "the node's default", title: 'hours; -1 keeps records forever' });
  const message = h('div');
  const create = h('form', {
    class: 'inline', 'data-testid': 'create-topic', onsubmit: async (ev) => {
      ev.preventDefault();
      if (!await confirmAction(`Create topic "${name.value}" with ${partitions.value} partitions?`)) return;
      try {
        const request = { name: name.value, partitions: num(partitions.value) };
        if (hours.value !== '') request.retentionMs = num(hours.value) < 0 ? -1 : Math.round(num(hours.value) * 3600000);
        await rpc(Admin + 'CreateTopic', request);
        message.replaceChildren(h('p', { class: 'ok' }, `Topic ${name.value} created.`));
        name.value = '';
        load();
      } catch (e) { message.replaceChildren(errorBox(e)); }
    }
  }, h('label', {}, 'Name', name), h('label', {}, 'Partitions', partitions), h('label', {}, 'Retention (hours)', hours),
  h('button', { class: 'primary', type: 'submit' }, 'Create topic'));
  main.replaceChildren(h('h1', {}, 'Topics'), list, h('h2', {}, 'New topic'), h('div', { class: 'card' }, create, message));
  const load = () => fill(list, async () => {
    const [topics, hist] = await Promise.all([rpc(Admin + 'ListTopics', { withPartitionDetails: true }), history(['topic.records'])]);
    const rate = {};
    for (const s of hist.series) rate[s.labels.topic] = rates(seriesPoints(s));
    return table([
      { title: 'Topic', cell: t => h('a', { href: '#/topics/' + encodeURIComponent(t.name) }, t.name) },
      { title: 'Partitions', num: true, cell: t => t.partitions },
      { title: 'Records stored', num: true, cell: t => fmt(t.partitionDetails.reduce((a, p) => a + num(p.endOffset) - num(p.logStartOffset), 0)) },
      { title: 'Bytes stored', num: true, cell: t => stored(t) },
      { title: 'End offsets (sum)', num: true, cell: t => fmt(t.partitionDetails.reduce((a, p) => a + num(p.endOffset), 0)) },
      { title: 'Produce rate, last hour', cell: t => { const r = rate[t.name] || []; return [sparkline(r), ' ', h('span', { class: 'muted' }, r.length ? fmt(Math.round(r[r.length - 1].v)) + '/s' : '')]; } },
      { title: 'Retention', cell: t => retention(t.retentionMs) + (num(t.retentionBytes) > 0 ? ' or ' + bytes(t.retentionBytes) : '') },
      { title: 'Cleanup', cell: t => t.cleanupPolicy || 'delete' }], topics.topics, 'topics-table');
  });
  every(load);
}

// What a topic stores in the bucket, as compaction last measured it from the index (it measures on its passes).
function stored(t) {
  const at = num(t.storedBytesMeasuredAtMs);
  if (!at && !num(t.storedBytes)) return h('span', { class: 'muted', title: 'compaction measures this on its passes' }, 'not measured yet');
  return h('span', { title: at ? 'as compaction measured it at ' + time(at) : 'some partitions not measured yet' },
    bytes(t.storedBytes) + (at ? '' : ' +'));
}

async function topicPage(main, topic) {
  const info = panel('topic'), chart = panel('topic-chart'), message = h('div');
  const hours = h('input', { type: 'number', min: -1, name: 'retention-hours', 'data-testid': 'retention-hours' });
  const alter = h('form', {
    class: 'inline', 'data-testid': 'alter-retention', onsubmit: async (ev) => {
      ev.preventDefault();
      const v = num(hours.value);
      if (!await confirmAction(`Set the retention of "${topic}" to ${v < 0 ? 'forever' : v + ' hours'}?`)) return;
      try {
        await rpc(Admin + 'AlterTopic', { name: topic, retentionMs: v < 0 ? -1 : Math.round(v * 3600000) });
        message.replaceChildren(h('p', { class: 'ok' }, 'Retention changed.'));
        load();
      } catch (e) { message.replaceChildren(errorBox(e)); }
    }
  }, h('label', {}, 'Retention (hours, -1 for forever)', hours), h('button', { type: 'submit' }, 'Change retention'));
  const del = h('button', {
    class: 'danger', 'data-testid': 'delete-topic', onclick: async () => {
      if (!await confirmAction(`Delete topic "${topic}" and all its records? This cannot be undone.`, topic)) return;
      try { await rpc(Admin + 'DeleteTopic', { name: topic }); location.hash = '#/topics'; } catch (e) { message.replaceChildren(errorBox(e)); }
    }
  }, 'Delete topic');
  main.replaceChildren(h('h1', {}, 'Topic ', topic), info, h('h2', {}, 'Records per second, last hour'), chart,
    h('h2', {}, 'Settings'), h('div', { class: 'card' }, alter, h('p'), del, message));
  const load = async () => {
    await fill(info, async () => {
      const t = await rpc(Admin + 'DescribeTopic', { name: topic });
      return [h('div', { class: 'card' }, kv([['Topic id', t.topicId], ['Partitions', t.partitions],
        ['Retention', retention(t.retentionMs) + (num(t.retentionBytes) > 0 ? ' or ' + bytes(t.retentionBytes) + ' per partition' : '')],
        ['Stored', stored(t)], ['Cleanup policy', t.cleanupPolicy || 'delete'], ['Created', time(t.createdAtMs)],
        ['Browse', h('a', { href: `#/records?topic=${encodeURIComponent(topic)}` }, 'records of this topic')]])),
      table([{ title: 'Partition', num: true, cell: p => p.partition },
        { title: 'Log start', num: true, cell: p => fmt(p.logStartOffset) },
        { title: 'End', num: true, cell: p => fmt(p.endOffset) },
        { title: 'Records', num: true, cell: p => fmt(num(p.endOffset) - num(p.logStartOffset)) },
        { title: 'Bytes stored', num: true, cell: p => num(t.storedBytesMeasuredAtMs) || num(p.storedBytes) ? bytes(p.storedBytes) : '—' },
        { title: '', cell: p => h('a', { href: `#/records?topic=${encodeURIComponent(topic)}&partition=${p.partition}&offset=${p.logStartOffset}` }, 'browse') }],
      t.partitionDetails, 'partitions')];
    });
    await fill(chart, async () => {
      const hist = await history(['topic.records'], { topic });
      const s = hist.series[0];
      return lineChart(s ? rates(seriesPoints(s)) : [], { unit: '/s', testid: 'topic-rate-chart' });
    });
  };
  every(load);
}

// ----- records -----

function decodeBase64(b64) {
  const raw = atob(b64 || '');
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

function hex(u8) { return Array.from(u8, b => b.toString(16).padStart(2, '0')).join(' '); }

function showBytes(b64, format) {
  if (b64 === undefined || b64 === null) return h('span', { class: 'muted' }, 'null');
  const u8 = decodeBase64(b64);
  if (format === 'hex') return h('pre', { class: 'value' }, hex(u8));
  let text;
  try { text = new TextDecoder('utf-8', { fatal: true }).decode(u8); } catch (e) { return h('pre', { class: 'value', title: 'not UTF-8: shown in hex' }, hex(u8)); }
  if (format === 'json') { try { text = JSON.stringify(JSON.parse(text), null, 2); } catch (e) { /* not JSON: as text */ } }
  return h('pre', { class: 'value' }, text);
}

function recordTable(records, format) {
  return table([
    { title: 'Offset', num: true, cell: r => r.offset },
    { title: 'Timestamp', cell: r => time(r.timestampMs) },
    { title: 'Key', cell: r => showBytes(r.key, format === 'hex' ? 'hex' : 'text') },
    { title: 'Value', cell: r => showBytes(r.value, format) },
    { title: 'Headers', cell: r => (r.headers || []).map(x => h('div', {}, h('span', { class: 'tag' }, x.key), showBytes(x.value, 'text'))) }],
  records, 'records-table');
}

function keyMatches(record, key) {
  if (record.key === undefined || record.key === null) return false;
  try { return new TextDecoder('utf-8', { fatal: true }).decode(decodeBase64(record.key)) === key; } catch (e) { return false; }
}

async function recordsPage(main, params) {
  const shown = generation;
  const topics = await rpc(Admin + 'ListTopics').catch(e => ({ topics: [], error: e }));
  if (shown !== generation) return; // the person went elsewhere meanwhile
  const topic = h('select', { name: 'topic', 'data-testid': 'browse-topic' }, topics.topics.map(t => h('option', { value: t.name, selected: t.name === params.get('topic') }, t.name)));
  const partition = h('input', { name: 'partition', type: 'number', min: 0, value: params.get('partition') || 0, 'data-testid': 'browse-partition' });
  const mode = h('select', { name: 'mode', 'data-testid': 'browse-mode' }, [['offset', 'From offset'], ['time', 'From time'], ['key', 'By key'], ['latest', 'Latest']]
    .map(([v, l]) => h('option', { value: v, selected: v === (params.get('mode') || 'offset') }, l)));
  const offset = h('input', { name: 'offset', type: 'number', min: 0, value: params.get('offset') || 0, 'data-testid': 'browse-offset' });
  const when = h('input', { name: 'time', type: 'datetime-local', step: 1 });
  const key = h('input', { name: 'key', value: params.get('key') || '', 'data-testid': 'browse-key' });
  const format = h('select', { name: 'format', 'data-testid': 'browse-format' }, ['text', 'json', 'hex'].map(f => h('option', { value: f }, f)));
  const results = panel('records');
  let next = null;
  const earliest = async () => num((await rpc(Admin + 'ListOffsets', { topic: topic.value, partition: num(partition.value), position: 'OFFSET_SPEC_EARLIEST' })).offset);
  // Reads a page from an offset; one below the log start (retention moved it) reads from the start instead.
  const read = async (from) => {
    const ask = (at) => rpc(Fetch + 'Fetch', { topic: topic.value, partition: num(partition.value), offset: at, maxBytes: PAGE_BYTES, maxWaitMs: 0 });
    try { return await ask(from); } catch (e) {
      if (e.code !== 'out_of_range') throw e;
      const start = await earliest();
      if (from >= start) throw e;
      return ask(start);
    }
  };
  const show = (records, r, note) => {
    next = num(r.nextOffset);
    results.replaceChildren(h('p', { class: 'note', 'data-testid': 'records-note' },
      `${note} Log start ${fmt(r.logStartOffset)}, end ${fmt(r.endOffset)}.`),
    recordTable(records, format.value),
    next < num(r.endOffset) ? h('button', { 'data-testid': 'next-page', onclick: () => run(next, true) }, 'Next page') : '');
  };
  const run = async (from, continuing) => {
    results.replaceChildren(h('p', { class: 'note' }, 'Reading…'));
    try {
      if (mode.value === 'key' && key.value) {
        let at = Math.max(from ?? 0, await earliest()), found = [], last = null;
        const begun = at;
        for (let page = 0; page < KEY_SEARCH_PAGES; page++) {
          last = await read(at);
          found.push(...last.records.filter(r => keyMatches(r, key.value)));
          if (num(last.nextOffset) <= at || num(last.nextOffset) >= num(last.endOffset)) { at = num(last.nextOffset); break; }
          at = num(last.nextOffset);
        }
        show(found, last, `${found.length} record(s) with key "${key.value}" between offsets ${fmt(begun)} and ${fmt(at)}${at < num(last.endOffset) ? ' (search stopped: next page goes on)' : ''}.`);
        return;
      }
      let start = from;
      if (!continuing) {
        if (mode.value === 'time' && when.value) {
          const o = await rpc(Admin + 'ListOffsets', { topic: topic.value, partition: num(partition.value), timestampMs: new Date(when.value).getTime() });
          start = num(o.offset);
        } else if (mode.value === 'latest') {
          const o = await rpc(Admin + 'ListOffsets', { topic: topic.value, partition: num(partition.value), position: 'OFFSET_SPEC_LATEST' });
          start = Math.max(await earliest(), num(o.offset) - 20);
        } else {
          start = num(offset.value);
        }
      }
      const r = await read(start);
      show(r.records, r, `${r.records.length} record(s) from offset ${fmt(start)}.`);
    } catch (e) { results.replaceChildren(errorBox(e)); }
  };
  const form = h('form', { class: 'inline', 'data-testid': 'browse', onsubmit: (ev) => { ev.preventDefault(); run(mode.value === 'key' ? num(offset.value) : null, false); } },
    h('label', {}, 'Topic', topic), h('label', {}, 'Partition', partition), h('label', {}, 'Find', mode),
    h('label', {}, 'Offset (start of a key search)', offset), h('label', {}, 'Time', when), h('label', {}, 'Key', key),
    h('label', {}, 'Value as', format), h('button', { class: 'primary', type: 'submit', 'data-testid': 'browse-go' }, 'Read'));
  main.replaceChildren(h('h1', {}, 'Records'), topics.error ? errorBox(topics.error) : '', h('div', { class: 'card' }, form,
    h('p', { class: 'note' }, `One page reads at most ${bytes(PAGE_BYTES)} of the partition; a key search reads up to ${KEY_SEARCH_PAGES} pages before it stops.`)), results);
  stopRefresh();
  if (params.get('topic')) run(params.get('mode') === 'key' ? num(offset.value) : null, false);
}

// ----- groups -----

async function groupsPage(main) {
  const list = panel('groups');
  main.replaceChildren(h('h1', {}, 'Consumer groups'), list);
  every(() => fill(list, async () => {
    const [groups, hist] = await Promise.all([rpc(Groups + 'ListGroups'), history(['group.lag'])]);
    const lag = {};
    for (const s of hist.series) lag[s.labels.group] = seriesPoints(s);
    return table([
      { title: 'Group', cell: g => h('a', { href: '#/groups/' + encodeURIComponent(g.group) }, g.group) },
      { title: 'State', cell: g => g.state },
      { title: 'Members', num: true, cell: g => g.members },
      { title: 'Lag', num: true, cell: g => { const p = lag[g.group]; return p && p.length ? fmt(p[p.length - 1].v) : '—'; } },
      { title: 'Lag, last hour', cell: g => sparkline(lag[g.group] || []) }], groups.groups, 'groups-table');
  }));
}

async function groupPage(main, group) {
  const info = panel('group'), chart = panel('group-chart'), message = h('div');
  const to = h('select', { name: 'to', 'data-testid': 'reset-to' }, [['earliest', 'Earliest'], ['latest', 'Latest'], ['offset', 'Offset'], ['timestampMs', 'Time (ms)'], ['shiftBy', 'Shift by']]
    .map(([v, l]) => h('option', { value: v }, l)));
  const value = h('input', { name: 'value', type: 'number', 'data-testid': 'reset-value' });
  const topic = h('input', { name: 'topic', placeholder: 'all topics' });
  const reset = h('form', {
    class: 'inline', 'data-testid': 'reset-group', onsubmit: async (ev) => {
      ev.preventDefault();
      if (!await confirmAction(`Reset the offsets of "${group}" to ${to.value}${value.value ? ' ' + value.value : ''}${topic.value ? ' on ' + topic.value : ''}? Its members must be stopped.`)) return;
      const body = { group };
      if (to.value === 'earliest' || to.value === 'latest') body[to.value] = true; else body[to.value] = num(value.value);
      if (topic.value) body.topic = topic.value;
      try { await rpc(Groups + 'ResetOffsets', body); message.replaceChildren(h('p', { class: 'ok' }, 'Offsets reset.')); load(); } catch (e) { message.replaceChildren(errorBox(e)); }
    }
  }, h('label', {}, 'Reset to', to), h('label', {}, 'Value', value), h('label', {}, 'Topic', topic), h('button', { type: 'submit' }, 'Reset offsets'));
  const del = h('button', {
    class: 'danger', 'data-testid': 'delete-group', onclick: async () => {
      if (!await confirmAction(`Delete group "${group}" and its committed offsets?`, group)) return;
      try { await rpc(Groups + 'DeleteGroup', { group }); location.hash = '#/groups'; } catch (e) { message.replaceChildren(errorBox(e)); }
    }
  }, 'Delete group');
  main.replaceChildren(h('h1', {}, 'Group ', group), h('h2', {}, 'Lag, last hour'), chart, info,
    h('h2', {}, 'Actions'), h('div', { class: 'card' }, reset, h('p'), del, message));
  const load = async () => {
    await fill(chart, async () => {
      const hist = await history(['group.lag'], { group });
      const s = hist.series[0];
      return lineChart(s ? seriesPoints(s) : [], { testid: 'group-lag-chart' });
    });
    await fill(info, async () => {
      const g = await rpc(Groups + 'DescribeGroup', { group });
      const total = g.partitions.reduce((a, p) => a + Math.max(0, num(p.lag)), 0);
      return [h('div', { class: 'card' }, kv([['State', g.state], ['Generation', g.generation], ['Members', g.members.length],
        ['Lag', h('span', { 'data-testid': 'group-lag' }, fmt(total))]])),
      h('h2', {}, 'Members'),
      table([{ title: 'Member', cell: m => m.memberId }, { title: 'Client', cell: m => m.clientId },
        { title: 'Address', cell: m => m.clientAddress }, { title: 'Topics', cell: m => m.topics.join(', ') },
        { title: 'Assigned', cell: m => m.owned.map(o => h('span', { class: 'tag' }, `${o.topic}-${o.partition}`)) }], g.members, 'members'),
      h('h2', {}, 'Partitions'),
      table([{ title: 'Topic', cell: p => p.topic }, { title: 'Partition', num: true, cell: p => p.partition },
        { title: 'Owner', cell: p => p.owner || '—' }, { title: 'Committed', num: true, cell: p => num(p.committed) < 0 ? '—' : fmt(p.committed) },
        { title: 'Log start', num: true, cell: p => fmt(p.logStart) }, { title: 'End', num: true, cell: p => fmt(p.end) },
        { title: 'Lag', num: true, cell: p => num(p.lag) < 0 ? '—' : fmt(p.lag) }], g.partitions, 'group-partitions')];
    });
  };
  every(load);
}

async function compactionPage(main) {
  const body = panel('compaction');
  main.replaceChildren(h('h1', {}, 'Compaction'), body);
  every(() => fill(body, async () => {
    const c = await rpc(Cluster + 'DescribeCompaction');
    const passes = c.passes; // newest first
    const now = Date.now();
    // The compaction going on now: passes that ended within ten minutes of the newest (workers that split the
    // shards pass about together; a CronJob's pods of an hour ago are history, shown below).
    const newest = passes.length ? num(passes[0].finishedAtMs) : 0;
    const current = passes.filter(p => num(p.finishedAtMs) >= newest - 600000);
    const oldest = Math.max(0, ...current.map(p => num(p.oldestUnmergedAgeMs)));
    const behind = Math.max(0, ...current.map(p => num(p.retentionLagMs)));
    const last = passes[0];
    return [h('div', { class: 'card' }, kv([
      ['Last pass', last ? `${duration(now - newest)} ago, by ${last.worker}: ${last.shards} shards, ${fmt(last.indexEntries)} index entries left` : 'none yet'],
      ['Oldest block not merged', h('span', { 'data-testid': 'compaction-waiting' }, current.length ? duration(oldest) || 'none' : '—')],
      ['Retention', behind > 0 ? duration(behind) + ' behind' : 'on time']])),
    h('p', { class: 'note' }, "Each worker's last pass in the last hour, newest first, as it wrote it down: what it did during the pass, and what it left waiting."),
    table([{ title: 'Worker', cell: p => p.worker }, { title: 'Ended', cell: p => duration(now - num(p.finishedAtMs)) + ' ago' },
      { title: 'Took', num: true, cell: p => duration(p.durationMs) }, { title: 'Shards', num: true, cell: p => p.shards },
      { title: 'Steps', num: true, cell: p => fmt(p.steps) }, { title: 'Segments', num: true, cell: p => fmt(p.segmentsWritten) },
      { title: 'Merged', num: true, cell: p => bytes(p.bytesMerged) }, { title: 'Expired', num: true, cell: p => bytes(p.bytesExpired) },
      { title: 'Cleaned', num: true, cell: p => bytes(p.bytesCleaned) }, { title: 'Objects collected', num: true, cell: p => fmt(p.objectsDeleted) },
      { title: 'Failures', num: true, cell: p => fmt(p.failures) }, { title: 'Index entries', num: true, cell: p => fmt(p.indexEntries) }],
    passes, 'compaction-passes')];
  }));
}

async function sharesPage(main, group) {
  const body = panel('shares');
  main.replaceChildren(h('h1', {}, group ? 'Share group ' + group : 'Share groups'), body);
  every(() => fill(body, async () => {
    if (group) {
      const d = await rpc(Shares + 'DescribeShareGroup', { group });
      return table([{ title: 'Topic', cell: p => p.topic }, { title: 'Partition', num: true, cell: p => p.partition },
        { title: 'Start', num: true, cell: p => fmt(p.startOffset) }, { title: 'Window end', num: true, cell: p => fmt(p.windowEnd) },
        { title: 'Log end', num: true, cell: p => fmt(p.logEnd) }, { title: 'Acquired', num: true, cell: p => fmt(p.acquired) },
        { title: 'Available', num: true, cell: p => fmt(p.available) }, { title: 'Dead-lettering', num: true, cell: p => fmt(p.deadLettering) },
        { title: 'Lag', num: true, cell: p => fmt(p.lag) }, { title: 'Oldest held', num: true, cell: p => duration(p.oldestAcquiredAgeMs) }],
      d.partitions, 'share-partitions');
    }
    const l = await rpc(Shares + 'ListShareGroups');
    return table([{ title: 'Group', cell: g => h('a', { href: '#/shares/' + encodeURIComponent(g.group) }, g.group) },
      { title: 'Topics', cell: g => g.topics.map(t => h('span', { class: 'tag' }, t.topic)) },
      { title: 'Partitions', num: true, cell: g => g.partitions }, { title: 'Lag', num: true, cell: g => fmt(g.lag) },
      { title: 'Held by members', num: true, cell: g => fmt(g.acquired) }], l.groups, 'share-groups');
  }));
}

async function transactionsPage(main) {
  const txns = panel('transactions'), halves = panel('half-messages');
  main.replaceChildren(h('h1', {}, 'Transactions'), txns, h('h2', {}, 'Half messages'), halves);
  every(async () => {
    await fill(txns, async () => {
      const l = await rpc(Txn + 'ListTransactions');
      return table([{ title: 'Transactional id', cell: t => t.transactionalId },
        { title: 'State', cell: t => String(t.state).replace('TRANSACTION_STATE_', '').toLowerCase() },
        { title: 'Producer', cell: t => `${t.producerId} / epoch ${t.producerEpoch}` },
        { title: 'Partitions', cell: t => t.partitions.map(p => h('span', { class: 'tag' }, `${p.topic}-${p.partition}`)) },
        { title: 'Started', cell: t => num(t.startedAtMs) > 0 ? time(t.startedAtMs) : '—' },
        { title: 'Timeout', num: true, cell: t => duration(t.transactionTimeoutMs) },
        { title: 'Last outcome', cell: t => String(t.lastOutcome).replace('TRANSACTION_OUTCOME_', '').toLowerCase() }], l.transactions, 'transactions-table');
    });
    await fill(halves, async () => {
      const l = await rpc(Txn + 'ListHalf', {});
      return table([{ title: 'Id', cell: m => m.id }, { title: 'Topic', cell: m => `${m.topic}-${m.partition}` },
        { title: 'Status', cell: m => String(m.status).replace('HALF_STATUS_', '').toLowerCase() },
        { title: 'Producer group', cell: m => m.producerGroup }, { title: 'Checks', num: true, cell: m => m.checks },
        { title: 'Sent', cell: m => time(m.sentMs) }], l.messages, 'half-table');
    });
  });
}

// ---------- routing ----------

async function route() {
  const main = document.getElementById('main');
  const [path, query] = (location.hash.slice(1) || '/cluster').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query || '');
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.page === parts[0]);
  generation++;
  stopRefresh();
  showWho();
  try {
    switch (parts[0]) {
      case 'topics': return parts[1] ? topicPage(main, parts[1]) : topicsPage(main);
      case 'records': return recordsPage(main, params);
      case 'groups': return parts[1] ? groupPage(main, parts[1]) : groupsPage(main);
      case 'compaction': return compactionPage(main);
      case 'shares': return sharesPage(main, parts[1]);
      case 'transactions': return transactionsPage(main);
      default: return clusterPage(main);
    }
  } catch (e) { if (e.code !== 'unauthenticated') main.replaceChildren(errorBox(e)); }
}

window.addEventListener('hashchange', route);
route();
