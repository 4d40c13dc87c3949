import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import helper from 'node-red-node-test-helper';
import endpointNode from '../../nodes/api-endpoint/api-endpoint';
import type { ApiEndpoint } from '../../nodes/api-endpoint/api-endpoint-types';

helper.init(require.resolve('node-red'));

const TOKEN = 'Bearer tok-9f8e7d6c5b4a';

describe('api-endpoint: header values as credentials or env references, redacted', function () {
  this.timeout(10_000);
  let server: Server;
  let received: IncomingHttpHeaders[];
  let baseUrl: string;
  before(async () => {
    received = [];
    server = createServer((req, res) => {
      received.push(req.headers);
      res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => new Promise((r) => server.close(r)));
  beforeEach((done) => {
    helper.startServer(done);
  });
  afterEach(async () => {
    await helper.unload();
    await new Promise<void>((r) => helper.stopServer(() => r()));
    delete process.env.GRIDFLOW_TEST_TOKEN;
  });

  const flow = (headers: string) => [
    { id: 'ep', type: 'api-endpoint', baseUrl, authIn: 'none', keyRequired: false, headers },
  ];
  const endpoint = () => helper.getNode('ep') as unknown as ApiEndpoint;
  const warnings = () =>
    ((helper.getNode('ep').warn as unknown as { args?: unknown[][] }).args ?? []).map((a) => String(a[0]));

  /** Sends the prepared request to the real server, as a poller would; returns what arrived. */
  async function send(path: string): Promise<IncomingHttpHeaders> {
    const { url, headers } = endpoint().prepare(path);
    await fetch(url, { headers });
    return received[received.length - 1];
  }

  it('sends a secret header kept as a credential, not in the flow, and redacts it', async () => {
    const flows = flow('{"User-Agent":"gridflow"}');
    await helper.load(endpointNode, flows, {
      ep: { secretHeaders: JSON.stringify({ Authorization: TOKEN }) },
    });
    const got = await send('/x');
    assert.equal(got.authorization, TOKEN);
    assert.equal(got['user-agent'], 'gridflow');
    assert.ok(!JSON.stringify(flows).includes(TOKEN));
    assert.equal(endpoint().redact(`request failed with ${TOKEN}`), 'request failed with ***');
    assert.deepEqual(warnings(), []);
  });

  it('takes a header value from ${VAR} and redacts it', async () => {
    process.env.GRIDFLOW_TEST_TOKEN = 'env-token-123456';
    await helper.load(endpointNode, flow('{"X-Token":"${GRIDFLOW_TEST_TOKEN}"}'), {});
    assert.equal((await send('/y'))['x-token'], 'env-token-123456');
    assert.equal(endpoint().redact('got env-token-123456'), 'got ***');
  });

  it('warns about a literal secret in the flow file headers and still redacts it from logs', async () => {
    await helper.load(endpointNode, flow(JSON.stringify({ Authorization: TOKEN })), {});
    assert.equal((await send('/z')).authorization, TOKEN);
    assert.equal(endpoint().redact(`401 for ${TOKEN}`), '401 for ***');
    assert.match(warnings().join('\n'), /header "Authorization" is stored in clear in the flow file/);
  });

  it('reports secret headers that are not a JSON object', async () => {
    await helper.load(endpointNode, flow('{}'), { ep: { secretHeaders: 'Authorization: Bearer x' } });
    assert.match(endpoint().problem() ?? '', /secret headers must be a JSON object/);
  });
});
