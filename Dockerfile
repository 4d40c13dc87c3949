# gridflow app image: Node-RED 4.1 embedded with the gridflow nodes and every shipped
# flow (what `npm start` runs), built once here so the container starts without building.
# docker-compose.yml runs it beside InfluxDB 1.8 and Grafana.

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json settings.ts ./
COPY app ./app
COPY nodes ./nodes
COPY scripts ./scripts
COPY flows ./flows
RUN npm run build
# The app runs Node-RED and express, which are dev dependencies of the npm package (a
# user's own Node-RED provides them). Keep those two at their locked versions and drop
# the rest of the dev tools (docs/adr/0070).
RUN npm pkg set "dependencies.node-red=$(npm pkg get devDependencies.node-red | tr -d '"')" \
      "dependencies.express=$(npm pkg get devDependencies.express | tr -d '"')" \
 && npm pkg delete devDependencies.node-red devDependencies.express \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim
# HOST=0.0.0.0 opens the editor to the network: the app refuses to start so unless
# NODE_RED_ADMIN_PASSWORD_HASH is set (README "Security"; compose stops without it too).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=1880 \
    MQTT_PORT=1883 \
    MQTT_BIND=0.0.0.0 \
    GRIDFLOW_USER_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/examples ./examples
COPY --from=build /app/resources ./resources
COPY flows ./flows
COPY data ./data
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 1880 1883
CMD ["node", "dist/app/start.js"]
