/**
 * influx-connection (config): where InfluxDB is and how to log in. v1: database + retention
 * policy, username/password; v2: org, bucket, token. Blank credentials fall back to the
 * env (INFLUX_TOKEN, INFLUX_USER, INFLUX_PASSWORD). A blank url, or one that still holds
 * `${VAR}` because the variable is unset, means "not configured": writers keep their
 * points in the disk buffer until a url is set.
 */
import type { NodeAPI } from '../shared/node-red-types';
import { InfluxHttp, isConfiguredUrl } from '../shared/influx-http';
import {
  connectionSettings,
  type InfluxConnectionConfig,
  type InfluxConnectionCredentials,
  type InfluxConnectionNode,
} from '../shared/influx-connection-settings';
import { useNodeRedSettings } from '../shared/node-state';
import { registerNode } from '../shared/node-handler';
import { INFLUX_CONNECTION_MIGRATIONS } from './migrations';

export = (RED: NodeAPI) => {
  useNodeRedSettings(RED);
  function InfluxConnection(this: InfluxConnectionNode, config: InfluxConnectionConfig) {
    RED.nodes.createNode(this, config);
    const credentials = (this.credentials ?? {}) as InfluxConnectionCredentials;
    try {
      this.settings = connectionSettings(config, credentials);
    } catch (err) {
      this.configError = `influx-connection "${config.name || this.id}": ${(err as Error).message}`;
      this.error(this.configError);
      this.settings = connectionSettings({ url: '' }, credentials);
    }
    this.configured = isConfiguredUrl(this.settings.url);
    this.createClient = () => (this.configured ? new InfluxHttp(this.settings) : undefined);
  }
  registerNode(RED, 'influx-connection', INFLUX_CONNECTION_MIGRATIONS, InfluxConnection, {
    username: { type: 'text' },
    password: { type: 'password' },
    token: { type: 'password' },
  });
};
