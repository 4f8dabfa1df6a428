#!/usr/bin/env node
// README's environment tables, printed from the config definitions, where each field says its name, default,
// accepted values and description (packages/runtime/src/config.ts). `npm run config-table` prints them;
// `npm run config-table -- --write` puts them into README.md between its config-table markers, which
// scripts/config-table.test.mjs holds README to.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { migrateConfigSpec } from '@chat/db';
import { createTopicsConfigSpec, kafkaConnectionConfigSpec } from '@chat/kafka';
import { failpointsConfigSpec, loggerConfigSpec } from '@chat/runtime';
import { gatewayConfigSpec } from '../services/gateway/src/config.ts';
import { messagingConfigSpec } from '../services/messaging/src/config.ts';
import { presenceConfigSpec } from '../services/presence/src/config.ts';

export const README = fileURLToPath(new URL('../README.md', import.meta.url));
const START = '<!-- config-table: printed by `npm run config-table -- --write` from the config definitions -->';
const END = '<!-- /config-table -->';

// A field listed in an earlier section (the same object, spread into a later spec) is not repeated there.
const sections = [
  ['Shared: `LOG_LEVEL` by every process, `CHAT_FAILPOINTS` by the services, the Kafka connection (`packages/kafka/src/connection.ts`) by all but migrate', { ...loggerConfigSpec, ...failpointsConfigSpec, ...kafkaConnectionConfigSpec }],
  ['gateway (`services/gateway/src/config.ts`)', gatewayConfigSpec],
  ['messaging (`services/messaging/src/config.ts`)', messagingConfigSpec],
  ['presence (`services/presence/src/config.ts`)', presenceConfigSpec],
  ["create-topics, the chart's topic Job (`packages/kafka/src/topic-setup.ts`)", createTopicsConfigSpec],
  ["migrate, the chart's schema Job (`packages/db/src/migrate.ts`)", migrateConfigSpec],
];

const cell = (text) => text.replaceAll('|', '\\|');

export function configTables() {
  const listed = new Set();
  return sections
    .map(([title, spec]) => {
      const fields = Object.values(spec).filter((field) => !listed.has(field));
      for (const field of fields) listed.add(field);
      const rows = fields.map(({ info }) => `| \`${info.env}\` | ${cell(info.default)} | ${cell(info.values)} | ${cell(info.doc)} |`);
      return [`${title}:`, '', '| variable | default | values | what it does |', '|---|---|---|---|', ...rows].join('\n');
    })
    .join('\n\n');
}

/** The text between README's markers, or undefined when they are missing. */
export function readmeTables(readme) {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  return start < 0 || end < start ? undefined : readme.slice(start + START.length, end).trim();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tables = configTables();
  if (!process.argv.includes('--write')) console.log(tables);
  else {
    const readme = readFileSync(README, 'utf8');
    if (readmeTables(readme) === undefined) throw new Error(`README.md lacks the markers ${START} … ${END}`);
    writeFileSync(README, `${readme.slice(0, readme.indexOf(START) + START.length)}\n\n${tables}\n\n${readme.slice(readme.indexOf(END))}`);
  }
}
