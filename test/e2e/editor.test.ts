/**
 * The Node-RED editor of the running app, used in a real browser (Debian's Chromium
 * driven by playwright-core) as an operator uses it: the gridflow palette, each node's
 * edit dialog and help, Import > Examples for every shipped flow, Deploy, status dots.
 * Screenshots go to test-artifacts/ (not committed). With GRIDFLOW_DOCS_SCREENSHOT=1 the
 * test also refreshes docs/editor.png, the README's picture of a shipped tab.
 */
import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { startApp, type RunningApp } from '../harness/app';
import { startTestInfluxd, type TestInfluxd } from '../harness/influxd';
import { startReplayServer, type ReplayServer } from '../harness/replay-server';

const repoRoot = resolve(__dirname, '..', '..', '..');
const ARTIFACTS = join(repoRoot, 'test-artifacts', 'editor');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];
const MODULE = '@gridflow/node-red-gridflow';
const declaredTypes = Object.keys(
  (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { 'node-red': { nodes: object } })[
    'node-red'
  ].nodes,
);
const shippedFlows = readdirSync(join(repoRoot, 'flows'))
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => f.replace(/\.json$/, ''));

/** Every node's en-US messages (locales/en-US/<node>.json), keyed by node type. */
const EN_US: Record<string, unknown> = Object.assign(
  {},
  ...declaredTypes.map(
    (type) => JSON.parse(readFileSync(localeFile(type, 'json'), 'utf8')) as Record<string, unknown>,
  ),
);
/** What an untranslated key looks like on screen: `moving-window.label.windowSeconds`. */
const RAW_KEY = /\b[a-z][\w-]*\.(label|placeholder|options|hint|modelName|inputLabels|outputLabels)\b/;

function localeFile(type: string, ext: 'json' | 'html'): string {
  return join(repoRoot, 'nodes', type, 'locales', 'en-US', `${type}.${ext}`);
}

/** The text of the first paragraph of a node's locales/en-US help, as the sidebar shows it. */
function helpIntro(type: string): string {
  const html = readFileSync(localeFile(type, 'html'), 'utf8');
  const first = /<p>([\s\S]*?)<\/p>/.exec(html)?.[1] ?? '';
  return first
    .replace(/<[^>]+>/g, '')
    .replace(/&gt;/g, '>')
    .replace(/&lt;/g, '<')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The en-US message of a dotted key (`moving-window.label.name`), if there is one. */
function enUsMessage(key: string): string | undefined {
  let at: unknown = EN_US;
  for (const part of key.split('.')) at = (at as Record<string, unknown> | undefined)?.[part];
  return typeof at === 'string' ? at : undefined;
}

/**
 * The node (or config node) to edit for each declared type: every one on the saved-flows
 * tab, else the first found.
 */
async function oneNodeOfEachType(page: Page): Promise<{ id: string; type: string; config: boolean }[]> {
  return page.evaluate(
    ({ declared, savedTab }) => {
      const chosen: { id: string; type: string; config: boolean }[] = [];
      const pick = (n: { id: string; type: string; z?: string }, config: boolean) => {
        if (!declared.includes(n.type)) return;
        const saved = n.z === savedTab || n.id.startsWith('saved.');
        if (saved || !chosen.some((c) => c.type === n.type)) chosen.push({ id: n.id, type: n.type, config });
      };
      RED.nodes.eachNode((n) => pick(n, false));
      RED.nodes.eachConfig((n) => pick(n, true));
      return chosen;
    },
    { declared: declaredTypes, savedTab: SAVED_TAB },
  );
}

/** Opens the edit dialog of a node or config node; resolves with its OK button. */
async function openDialog(page: Page, n: { id: string; type: string; config: boolean }) {
  if (n.config) await page.evaluate(({ id, type }) => RED.editor.editConfig('', type, id), n);
  else await page.evaluate((id) => RED.editor.edit(RED.nodes.node(id)), n.id);
  const done = page.locator(n.config ? '#node-config-dialog-ok' : '#node-dialog-ok');
  await done.waitFor({ state: 'visible', timeout: 10_000 });
  return done;
}

/** Clicks Done until the dialog is gone: a click that lands while the tray is still opening is lost. */
async function closeWithDone(done: Locator): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await done.click();
    try {
      await done.waitFor({ state: 'detached', timeout: 10_000 });
      return;
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

interface TypeInfo {
  type: string;
  category: string;
  label: string;
  /** For a config type: a node type with a property that uses it, and that property. */
  usedBy?: { type: string; property: string };
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** Drags a palette node onto the workspace as a person does; returns the new node's id. */
async function addFromPalette(page: Page, type: string, x: number, y: number): Promise<string> {
  const ids = () =>
    page.evaluate(() => {
      const all: string[] = [];
      RED.nodes.eachNode((n: { id: string }) => {
        all.push(n.id);
      });
      return all;
    });
  const source = page.locator(
    `#red-ui-palette-container-gridflow .red-ui-palette-node[data-palette-type="${type}"]`,
  );
  await source.scrollIntoViewIfNeeded();
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = new Set(await ids());
    await source.dragTo(page.locator('#red-ui-workspace-chart'), { targetPosition: { x, y }, steps: 20 });
    await page.waitForTimeout(200);
    const added = (await ids()).filter((id) => !before.has(id));
    if (added.length === 1) return added[0];
  }
  throw new Error(`dragging ${type} from the palette did not add a node`);
}

/** The h3 headings of the help shown in the help sidebar. */
async function helpHeadings(page: Page, title: string): Promise<string[]> {
  const help = page.locator('.red-ui-help:visible').filter({ hasText: title }).last();
  await help.locator('h3').first().waitFor({ timeout: 5_000 });
  return (await help.locator('h3').allInnerTexts()).map((t) => t.trim());
}

/**
 * The saved-flow contract (design README): the config names every saved flow keeps. A node
 * of each type with every one of them set, on a disabled tab, as a flow file holds it.
 */
const SAVED_FLOW_CONTRACT: Record<string, Record<string, unknown>> = {
  'moving-window': {
    property: 'payload.v',
    keyProperty: 'topic',
    timeProperty: 'payload.t',
    windowSeconds: 600,
    hopSeconds: 120,
    countWindow: 0,
    aggregates: ['mean', 'max'],
    latenessSeconds: 5,
    emitEmpty: true,
  },
  'cov-filter': {
    property: 'payload',
    keyProperty: 'topic',
    absolute: 0.5,
    percent: 2,
    heartbeatSeconds: 60,
  },
  'cov-resampler': {
    property: 'payload',
    timeProperty: 'timestamp',
    keyProperty: 'topic',
    bucketSeconds: 900,
    method: 'linear',
    timezone: 'Europe/Zurich',
    maxCarrySeconds: 3600,
    graceSeconds: 30,
  },
  'anomaly-flagger': {
    mode: 'stream',
    sigmas: 2.5,
    property: 'payload.value',
    keyProperty: 'payload.key',
    windowSize: 50,
    minCount: 5,
  },
  'turbine-stats': {
    turbineProperty: 'turbine_id',
    timeProperty: 'timestamp',
    powerProperty: 'power_output',
    periodSeconds: 3600,
    timezone: 'UTC',
    impute: 'median',
    minPower: 0,
    maxPower: 8,
  },
  forecaster: {
    model: 'holt-winters',
    stepSeconds: 3600,
    season: 24,
    historySteps: 96,
    lags: [0, 1, 24],
    property: 'payload',
    timeProperty: 'timestamp',
  },
  'influx-connection': {
    url: 'http://127.0.0.1:9',
    apiVersion: 'v1',
    database: 'saved',
    retentionPolicy: 'autogen',
    org: '',
    bucket: 'saved',
  },
  'influx-write': {
    connection: 'saved.influx-connection',
    measurement: 'saved',
    precision: 's',
    batchSize: 100,
    flushSeconds: 2,
    bufferMegabytes: 10,
  },
};
const SAVED_TAB = 'tab.saved-flows';
/** anomaly-flagger as flows saved it before `sigmas` and `version`: threshold `k`. */
const SAVED_WITH_K = 'saved.anomaly-flagger-k';

function savedFlowFile(): Record<string, unknown>[] {
  const nodes: Record<string, unknown>[] = [
    { id: 'tab.scratch', type: 'tab', label: 'Flow 1' },
    { id: SAVED_TAB, type: 'tab', label: 'saved flows', disabled: true },
    {
      id: SAVED_WITH_K,
      type: 'anomaly-flagger',
      z: SAVED_TAB,
      name: 'saved with k',
      mode: 'fleet',
      k: 3,
      property: 'payload.mean',
      keyProperty: 'payload.turbine_id',
      windowSize: 100,
      minCount: 10,
      x: 160,
      y: 40,
      wires: [[], []],
    },
  ];
  // Config nodes have no place on the canvas: Node-RED keeps no x/y for them.
  const configTypes = new Set(['influx-connection', 'api-endpoint', 'nats-connection']);
  Object.entries(SAVED_FLOW_CONTRACT).forEach(([type, config], i) =>
    nodes.push({
      id: `saved.${type}`,
      type,
      z: SAVED_TAB,
      name: `saved ${type}`,
      ...config,
      ...(configTypes.has(type) ? {} : { x: 160, y: 100 + i * 60 }),
    }),
  );
  return nodes;
}

type SavedNode = Record<string, unknown> & { id: string; type: string };

async function deployedFlows(url: string): Promise<Map<string, SavedNode>> {
  const res = await fetch(`${url}/flows`, { headers: { 'Node-RED-API-Version': 'v1' } });
  assert.equal(res.status, 200);
  return new Map(((await res.json()) as SavedNode[]).map((n) => [n.id, n]));
}

declare const RED: {
  nodes: {
    eachNode(
      cb: (n: { id: string; type: string; z: string; valid?: boolean; validationErrors?: string[] }) => void,
    ): void;
    getType(type: string): { category: string; defaults?: Record<string, { type?: string }> } | undefined;
    node(id: string): { id: string; type: string; z?: string; status?: { fill?: string } } | undefined;
    workspace(id: string): { id: string; label: string } | undefined;
    eachConfig(cb: (n: { id: string; type: string }) => void): void;
    dirty(value: boolean): void;
  };
  editor: { edit(node: unknown): void; editConfig(name: string, type: string, id: string): void };
  sidebar: { help: { show(type: string): void } };
  utils: { getPaletteLabel(type: string, def: unknown): string; getNodeLabel(node: unknown): string };
  view: { select(selection: unknown): void };
  workspaces: { show(id: string): void; active(): string };
};

describe('the editor in a real browser (Chromium driven by playwright-core)', function () {
  this.timeout(300_000);
  let work: string;
  let influx: TestInfluxd;
  let api: ReplayServer;
  let app: RunningApp;
  let context: BrowserContext;
  let page: Page;
  let types: TypeInfo[];

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: sudo apt-get install -y chromium`);
    mkdirSync(ARTIFACTS, { recursive: true });
    work = mkdtempSync(join(tmpdir(), 'gridflow-editor-'));
    const dataDir = join(work, 'data');
    cpSync(join(repoRoot, 'data'), dataDir, { recursive: true });
    const userDir = join(work, 'userdir');
    mkdirSync(userDir);
    // No shipped tab: they arrive through Import > Examples, as a user does it. A scratch tab
    // for new nodes, and a disabled tab of nodes as older flow files saved them.
    writeFileSync(join(userDir, 'flows.json'), JSON.stringify(savedFlowFile()));
    influx = await startTestInfluxd('gridflow');
    api = await startReplayServer();
    api.fixture(
      '/dataset/PowerSystemRightNow',
      'statnett/PowerSystemRightNow_sample_2026-04-08.extracted_from_test_fixture.json',
    );
    api.fixture('/intensity/2019-11-25T00:00Z/2019-11-26T00:00Z', 'carbon/carbon_intensity_2019-11-25.json');
    app = await startApp({
      userDir,
      env: {
        INFLUX_URL: influx.url,
        INFLUX_DB: 'gridflow',
        GRIDFLOW_DATA_DIR: dataDir,
        ENERGIDATASERVICE_URL: api.url,
        CARBON_INTENSITY_URL: api.url,
        OPENWEATHER_URL: api.url,
      },
    });
    context = await chromium.launchPersistentContext(join(work, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 760 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(app.url);
    await page.locator('#red-ui-palette-container-gridflow').waitFor({ timeout: 60_000 });
    // Node-RED 4.1 asks once about update notifications; answer as a user would.
    const noThanks = page.getByRole('button', { name: /do not enable/i });
    await noThanks
      .waitFor({ timeout: 10_000 })
      .then(() => noThanks.click())
      .catch(() => undefined);
    types = await page.evaluate((declared) => {
      return declared.map((type) => {
        const def = RED.nodes.getType(type);
        if (!def) return { type, category: '', label: type };
        let usedBy: { type: string; property: string } | undefined;
        if (def.category === 'config')
          for (const other of declared) {
            const defaults = RED.nodes.getType(other)?.defaults ?? {};
            const property = Object.keys(defaults).find((p) => defaults[p].type === type);
            if (property && RED.nodes.getType(other)?.category !== 'config') {
              usedBy = { type: other, property };
              break;
            }
          }
        return { type, category: def.category, label: RED.utils.getPaletteLabel(type, def), usedBy };
      });
    }, declaredTypes);
  });

  after(async () => {
    if (page) await shot(page, 'zz-last').catch(() => undefined);
    await context?.close();
    if (app) writeFileSync(join(ARTIFACTS, 'app.log'), app.logs());
    await app?.dispose();
    await api?.close();
    await influx?.dispose();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('lists every gridflow node of package.json in the gridflow palette category', async () => {
    const missing = types.filter((t) => t.category === '').map((t) => t.type);
    assert.deepEqual(missing, [], 'types the editor does not know');
    const inPalette = await page
      .locator('#red-ui-palette-container-gridflow .red-ui-palette-node')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-palette-type')));
    const paletteTypes = types.filter((t) => t.category !== 'config').map((t) => t.type);
    assert.deepEqual([...inPalette].sort(), [...paletteTypes].sort());
    for (const t of types.filter((x) => x.category !== 'config'))
      assert.equal(t.category, 'gridflow', t.type);
    await shot(page, '01-palette');
  });

  it('opens the edit dialog and the help (Inputs, Outputs, Details) of every gridflow node', async () => {
    const problems: string[] = [];
    const regular = types.filter((t) => t.category !== 'config');
    for (const [i, t] of regular.entries()) {
      const id = await addFromPalette(page, t.type, 160 + (i % 3) * 260, 80 + Math.floor(i / 3) * 70);
      const node = page.locator(
        `#red-ui-workspace-chart g.red-ui-flow-node-group[id="${id}"] rect.red-ui-flow-node`,
      );
      await node.dblclick();
      const tray = page.locator('.red-ui-tray').last();
      await tray.locator('.red-ui-tray-header').waitFor();
      await page.waitForTimeout(300);
      const header = await tray.locator('.red-ui-tray-header').innerText();
      if (!header.includes('Edit')) problems.push(`${t.type}: edit dialog header "${header}"`);
      const inputs = await tray.locator('[id^="node-input-"]').count();
      if (inputs < 2) problems.push(`${t.type}: edit dialog has ${inputs} inputs`);
      await shot(page, `02-edit-${t.type}`);
      const configUsers = types.filter((c) => c.usedBy?.type === t.type);
      for (const c of configUsers) {
        await tray.locator(`#node-input-btn-${c.usedBy!.property}-add`).click();
        const configTray = page.locator('.red-ui-tray').last();
        await page.waitForTimeout(500);
        const configHeader = await configTray.locator('.red-ui-tray-header').innerText();
        if (!configHeader.includes(c.type) && !configHeader.includes(c.label))
          problems.push(`${c.type}: config dialog header "${configHeader}"`);
        const configInputs = await configTray.locator('[id^="node-config-input-"]').count();
        if (configInputs < 2) problems.push(`${c.type}: config dialog has ${configInputs} inputs`);
        await shot(page, `02-edit-${c.type}`);
        await configTray.locator('#node-config-dialog-cancel').click();
        await page.waitForTimeout(300);
      }
      await page.locator('#node-dialog-cancel').click();
      await page.waitForTimeout(300);

      await node.click();
      await page.keyboard.press('Control+g');
      await page.keyboard.press('h');
      try {
        const headings = await helpHeadings(page, t.label);
        for (const h of ['Inputs', 'Outputs', 'Details'])
          if (!headings.includes(h))
            problems.push(`${t.type}: help has no ${h} heading (${headings.join(', ')})`);
      } catch (err) {
        problems.push(`${t.type}: no help shown (${(err as Error).message.split('\n')[0]})`);
      }
      await shot(page, `03-help-${t.type}`);
    }
    for (const c of types.filter((x) => x.category === 'config' && !x.usedBy))
      problems.push(`${c.type}: no gridflow node uses this config node`);
    assert.deepEqual(problems, []);
    // leave the workspace as it was: delete the test nodes, deploy nothing
    await page.locator('#red-ui-workspace-chart').click({ position: { x: 20, y: 20 } });
    await page.keyboard.press('Control+a');
    await page.keyboard.press('Delete');
  });

  it('imports every shipped flow from Import > Examples, deploys it, and the gridflow nodes show a status', async () => {
    for (const flow of shippedFlows) {
      await page.locator('#red-ui-header-button-sidemenu').click();
      await page.locator('#menu-item-import').click();
      const dialog = page.locator('#red-ui-clipboard-dialog');
      await dialog.waitFor();
      await dialog.getByRole('link', { name: 'Examples' }).click();
      const examples = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
      const moduleItem = examples.locator('.red-ui-treeList-label').filter({ hasText: MODULE }).first();
      const flowItem = examples
        .locator('.red-ui-treeList-label')
        .filter({ hasText: new RegExp(`^\\s*${flow}\\s*$`) });
      if (!(await flowItem.first().isVisible())) await moduleItem.click();
      await flowItem.first().click();
      await page.locator('#red-ui-clipboard-dialog-ok').click();
      // the shared config nodes (broker, InfluxDB) already exist after the first tab:
      // keep the existing ones and import the rest
      const conflict = page.getByRole('button', { name: /view nodes/i });
      const imported = () => page.evaluate((id) => Boolean(RED.nodes.workspace(id)), `tab.${flow}`);
      for (let i = 0; i < 40 && !(await imported()); i++) {
        if (await conflict.isVisible()) {
          await conflict.click();
          await page.locator('#red-ui-clipboard-dialog-import-conflict').click();
        }
        await page.waitForTimeout(250);
      }
      await page.waitForTimeout(500);
      await page.mouse.click(400, 400); // drop the imported selection where it is
      await shot(page, `04-import-${flow}`);
    }
    const tabIds = shippedFlows.map((f) => `tab.${f}`);
    const present = await page.evaluate((ids) => ids.filter((id) => RED.nodes.workspace(id)), tabIds);
    assert.deepEqual(present, tabIds, 'every shipped tab was imported');

    // what the editor's validators say about the shipped nodes (red triangles on the canvas)
    const invalid = await page.evaluate((tabs) => {
      const found: string[] = [];
      RED.nodes.eachNode((n) => {
        if (tabs.includes(n.z) && n.valid === false)
          found.push(`${n.z} ${n.type} ${n.id}: invalid ${(n.validationErrors ?? []).join(', ')}`);
      });
      return found;
    }, tabIds);
    await page.locator('#red-ui-header-button-deploy').click();
    const confirm = page.getByRole('button', { name: 'Confirm deploy' });
    const deployed = page.getByText(/Successfully deployed/i);
    await Promise.race([confirm.waitFor({ timeout: 30_000 }), deployed.waitFor({ timeout: 30_000 })]);
    if (await confirm.isVisible()) {
      await shot(page, '05-deploy-invalid-nodes');
      await confirm.click();
    }
    await deployed.waitFor({ timeout: 30_000 });

    // the editor keeps each node's last status (also for tabs not on screen)
    const nodeIds = await page.evaluate(
      ({ tabs, wanted }) => {
        const found: string[] = [];
        RED.nodes.eachNode((n) => {
          if (tabs.includes(n.z) && wanted.includes(n.type)) found.push(n.id);
        });
        return found;
      },
      { tabs: tabIds, wanted: types.filter((t) => t.category !== 'config').map((t) => t.type) },
    );
    assert.ok(nodeIds.length > 0, 'the shipped tabs hold no gridflow nodes');
    const withStatus = (ids: string[]) =>
      page.evaluate((all) => all.filter((id) => Boolean(RED.nodes.node(id)?.status?.fill)), ids);
    const deadline = Date.now() + 20_000;
    let shown = await withStatus(nodeIds);
    while (shown.length < nodeIds.length && Date.now() < deadline) {
      await page.waitForTimeout(500);
      shown = await withStatus(nodeIds);
    }
    const withoutStatus = await page.evaluate(
      (ids) => ids.map((id) => `${RED.nodes.node(id)?.type} ${id}`),
      nodeIds.filter((id) => !shown.includes(id)),
    );
    for (const flow of shippedFlows) {
      await page.evaluate((id) => RED.workspaces.show(id), `tab.${flow}`);
      await page.waitForTimeout(300);
      const dots = await page
        .locator('#red-ui-workspace-chart .red-ui-flow-node-status[class*="-status-"]')
        .count();
      const expected = await page.evaluate(
        ({ ids, tab }) => ids.filter((id) => RED.nodes.node(id)?.z === tab).length,
        { ids: shown, tab: `tab.${flow}` },
      );
      assert.ok(
        dots >= expected,
        `${flow}: ${dots} status dots on the canvas for ${expected} nodes with a status`,
      );
      await shot(page, `05-running-${flow}`);
    }
    if (process.env.GRIDFLOW_DOCS_SCREENSHOT === '1') {
      const tab = shippedFlows.includes('carbon-footprint') ? 'carbon-footprint' : shippedFlows[0];
      await page.evaluate((id) => RED.workspaces.show(id), `tab.${tab}`);
      await page.locator('#red-ui-workspace-chart').click({ position: { x: 10, y: 10 } });
      await page.keyboard.press('Control+Space'); // hide the sidebar: the flow gets the width
      await page.locator('#red-ui-view-zoom-out').click();
      await page.evaluate(() =>
        document.querySelectorAll('#red-ui-palette *').forEach((el) => {
          if (el.scrollTop > 0) el.scrollTop = 0;
        }),
      );
      await page.mouse.move(600, 600);
      await page.locator('#red-ui-workspace-chart').evaluate((el) => el.scrollTo(0, 0));
      await page.waitForTimeout(1_000);
      await page.screenshot({ path: join(repoRoot, 'docs', 'editor.png') });
      await page.keyboard.press('Control+Space');
    }
    assert.deepEqual(
      { invalid, withoutStatus },
      { invalid: [], withoutStatus: [] },
      'shipped nodes the editor marks invalid / gridflow nodes without a status after deploy',
    );
  });

  it("shows every node's help from its locales/en-US/<node>.html in the help sidebar", async () => {
    const problems: string[] = [];
    for (const type of declaredTypes) {
      const built = readFileSync(join(repoRoot, 'dist', 'nodes', type, `${type}.html`), 'utf8');
      if (built.includes('data-help-name')) problems.push(`${type}: help still in ${type}.html`);
      const intro = helpIntro(type);
      if (!intro) problems.push(`${type}: no <p> in locales/en-US/${type}.html`);
      await page.evaluate((t) => RED.sidebar.help.show(t), type);
      try {
        await page
          .locator('.red-ui-help:visible')
          .filter({ hasText: intro })
          .first()
          .waitFor({ timeout: 5_000 });
      } catch {
        problems.push(`${type}: the help sidebar does not show "${intro.slice(0, 60)}"`);
        await shot(page, `05b-help-${type}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('labels every edit dialog from locales/en-US: each i18n text is its en-US message, no raw key shown', async () => {
    const problems: string[] = [];
    const nodes = await oneNodeOfEachType(page);
    for (const n of nodes) {
      try {
        await openDialog(page, n);
      } catch (err) {
        problems.push(`${n.type} ${n.id}: dialog (${(err as Error).message.split('\n')[0]})`);
        await page.keyboard.press('Escape');
        continue;
      }
      // This dialog's own tray (the one holding its Done button), once its form is built:
      // under load the button can show before the template's i18n rows are in.
      const ok = n.config ? '#node-config-dialog-ok' : '#node-dialog-ok';
      await page
        .waitForFunction(
          (sel) =>
            [
              ...(document.querySelector(sel)?.closest('.red-ui-tray')?.querySelectorAll('[data-i18n]') ??
                []),
            ].some((el) => (el.getAttribute('data-i18n') ?? '').includes('@gridflow/')),
          ok,
          { timeout: 10_000 },
        )
        .catch(() => undefined); // reported below as "no i18n text"
      const shown = await page.evaluate((sel) => {
        const tray = document.querySelector(sel)!.closest('.red-ui-tray')!;
        const texts: { key: string; text: string }[] = [];
        tray.querySelectorAll('[data-i18n]').forEach((el) => {
          for (const spec of (el.getAttribute('data-i18n') ?? '').split(';')) {
            const m = /^(?:\[(\w+)\])?(?:(.+):)?(.+)$/.exec(spec.trim());
            if (!m || !(m[2] ?? '').startsWith('@gridflow/')) continue;
            const text = m[1] ? (el.getAttribute(m[1]) ?? '') : (el.textContent ?? '');
            texts.push({ key: m[3], text: text.trim() });
          }
        });
        const placeholders = [...tray.querySelectorAll('[placeholder]')].map((e) =>
          e.getAttribute('placeholder'),
        );
        return { texts, visible: (tray as HTMLElement).innerText, placeholders };
      }, ok);
      if (shown.texts.length === 0) problems.push(`${n.type}: no i18n text in the dialog`);
      for (const { key, text } of shown.texts) {
        const message = enUsMessage(key);
        if (message === undefined) problems.push(`${n.type}: ${key} is not in locales/en-US/${n.type}.json`);
        else if (text !== message)
          problems.push(`${n.type}: ${key} shows "${text}", en-US says "${message}"`);
      }
      for (const text of [shown.visible, ...shown.placeholders])
        if (RAW_KEY.test(text ?? ''))
          problems.push(`${n.type}: raw key shown: ${RAW_KEY.exec(text ?? '')?.[0]}`);
      await shot(page, `05c-i18n-${n.type}`);
      await page.locator(n.config ? '#node-config-dialog-cancel' : '#node-dialog-cancel').click();
      await page
        .locator(n.config ? '#node-config-dialog-cancel' : '#node-dialog-cancel')
        .waitFor({ state: 'detached' });
    }
    const labels = await page.evaluate(() => {
      const all: string[] = [];
      RED.nodes.eachNode((node) => {
        all.push(`${node.type}: ${RED.utils.getNodeLabel(node)}`);
      });
      return all;
    });
    problems.push(...labels.filter((l) => RAW_KEY.test(l)).map((l) => `node label ${l}`));
    const ports = await page.evaluate(
      (nodes) => {
        type PortLabel = string | ((this: unknown, port: number) => string) | undefined;
        const text = (label: PortLabel, node: unknown, port: number) =>
          typeof label === 'function' ? label.call(node, port) : label;
        return nodes.map(({ id, type }) => {
          const node = RED.nodes.node(id) as { inputs?: number; outputs?: number } | undefined;
          const def = RED.nodes.getType(type) as
            { inputLabels?: PortLabel; outputLabels?: PortLabel } | undefined;
          const outputs = Array.from({ length: node?.outputs ?? 0 }, (_, port) =>
            text(def?.outputLabels, node, port),
          );
          return { type, input: node?.inputs ? text(def?.inputLabels, node, 0) : undefined, outputs };
        });
      },
      nodes.filter((n) => !n.config),
    );
    for (const { type, input, outputs } of ports) {
      const expectedInput = enUsMessage(`${type}.inputLabels`);
      if (input !== expectedInput)
        problems.push(`${type}: input label "${input}", en-US says "${expectedInput}"`);
      outputs.forEach((label, port) => {
        const expected = enUsMessage(`${type}.outputLabels.${port}`);
        if (label !== expected)
          problems.push(`${type}: output ${port} label "${label}", en-US says "${expected}"`);
      });
    }
    assert.deepEqual(problems, []);
  });

  it('keeps every setting through an unchanged edit dialog and Deploy, for every node type', async () => {
    const declaredNodes = await oneNodeOfEachType(page);
    assert.deepEqual(
      [...new Set(declaredNodes.map((n) => n.type))].sort(),
      [...declaredTypes].sort(),
      'a node of every type to edit',
    );
    const before = await deployedFlows(app.url);
    const problems: string[] = [];
    for (const n of declaredNodes) {
      try {
        await closeWithDone(await openDialog(page, n));
      } catch (err) {
        problems.push(`${n.type} ${n.id}: dialog (${(err as Error).message.split('\n')[0]})`);
        await shot(page, `06-dialog-${n.type}`);
        const cancel = page.locator(n.config ? '#node-config-dialog-cancel' : '#node-dialog-cancel');
        await cancel.click({ timeout: 5_000 }).catch(() => undefined);
      }
    }
    // Deploy as a user does after editing (Full deploy: the editor sends every node as it holds it)
    await page.evaluate(() => RED.nodes.dirty(true));
    const posted = page.waitForResponse(
      (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/flows',
      { timeout: 60_000 },
    );
    await page.locator('#red-ui-header-button-deploy').click();
    const confirm = page.getByRole('button', { name: 'Confirm deploy' });
    await Promise.race([
      posted,
      confirm
        .waitFor({ timeout: 30_000 })
        .then(() => confirm.click())
        .catch(() => undefined),
    ]);
    assert.ok((await posted).ok(), 'the deploy was accepted');
    const after = await deployedFlows(app.url);

    const contractGaps = await page.evaluate((contract) => {
      const gaps: string[] = [];
      for (const [type, config] of Object.entries(contract)) {
        const defaults = RED.nodes.getType(type)?.defaults ?? {};
        for (const name of Object.keys(config))
          if (!(name in defaults)) gaps.push(`${type}: ${name} is not in the editor's defaults`);
      }
      return gaps;
    }, SAVED_FLOW_CONTRACT);
    problems.push(...contractGaps);
    for (const [type, config] of Object.entries(SAVED_FLOW_CONTRACT)) {
      const saved = after.get(`saved.${type}`);
      for (const name of Object.keys(config))
        if (saved?.[name] === undefined) problems.push(`${type}: ${name} is gone from GET /flows`);
    }
    for (const n of declaredNodes) {
      const was = before.get(n.id) ?? {};
      const now = after.get(n.id);
      if (!now) problems.push(`${n.type} ${n.id}: not in GET /flows`);
      else
        for (const name of Object.keys(was))
          if (!(name in now) && !(n.id === SAVED_WITH_K && name === 'k'))
            problems.push(`${n.type} ${n.id}: ${name} is gone from GET /flows`);
    }
    const migrated = after.get(SAVED_WITH_K);
    assert.deepEqual(problems, []);
    assert.equal(Number(migrated?.sigmas), 3, `the threshold saved as k: ${JSON.stringify(migrated)}`);
    assert.equal(migrated?.version, 1);
    assert.equal('k' in (migrated ?? {}), false);
  });
});
