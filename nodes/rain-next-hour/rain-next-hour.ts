/**
 * rain-next-hour: an OpenWeatherMap One Call response in, the precipitation expected
 * over the next hour out (`{time, mm, minutes}`). The sum is nodes/core/rain-next-hour.ts.
 */
import { rainNextHour } from '../core/rain-next-hour';
import { configNumber } from '../shared/config-number';
import { readMsgPath } from '../shared/msg-property';
import { showStatus } from '../shared/status';
import type { Node, NodeAPI, NodeDef } from '../shared/node-red-types';
import { failOnBadConfig } from '../shared/config-failure';
import { onInput, registerNode } from '../shared/node-handler';
import { RAIN_NEXT_HOUR_MIGRATIONS } from './migrations';

interface RainNextHourConfig extends NodeDef {
  property: string;
  horizonMinutes: string | number;
  unit: 'mm/h' | 'mm';
}

export = (RED: NodeAPI) => {
  function RainNextHourNode(this: Node, config: RainNextHourConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    let horizonMinutes: number;
    try {
      horizonMinutes = configNumber(config.horizonMinutes, 'horizonMinutes', 60, {
        min: 1,
        max: 1440,
        integer: true,
      });
    } catch (err) {
      failOnBadConfig(node, err);
      return;
    }
    const property = config.property || 'payload';
    const unit = config.unit === 'mm' ? 'mm' : 'mm/h';
    showStatus(node, 'idle', 'waiting for data');

    onInput(node, (msg, send, done) => {
      const result = rainNextHour(readMsgPath(RED, msg, property), { horizonMinutes, unit });
      if (!result.ok) {
        showStatus(node, 'warn', 'bad response');
        return done(new Error(`msg.${property}: ${result.reason}`));
      }
      msg.payload = result.value;
      showStatus(node, 'ok', `${result.value.mm.toFixed(1)} mm`);
      send(msg);
      done();
    });
  }
  registerNode(RED, 'rain-next-hour', RAIN_NEXT_HOUR_MIGRATIONS, RainNextHourNode);
};
