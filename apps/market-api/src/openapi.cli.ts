// `npm run openapi:generate` writes apps/market-api/openapi.json from the code;
// `npm run openapi:check` fails when the committed file differs from what the code generates.
import { readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { DOCUMENT_FILE, REPO_ROOT } from './openapi/document-file.js';
import { documentText, generateDocument } from './openapi.generate.js';

const check = process.argv.includes('--check');
const doc = await generateDocument();
const text = await documentText(doc);
const file = relative(REPO_ROOT, DOCUMENT_FILE);
const operations = Object.values(doc.paths).reduce((n, p) => n + Object.keys(p).length, 0);
if (check) {
  let current = '';
  try {
    current = readFileSync(DOCUMENT_FILE, 'utf8');
  } catch {
    // missing
  }
  if (current !== text) {
    console.error(`${file} is stale: run \`npm run openapi:generate\` and commit it`);
    process.exit(1);
  }
  console.log(`${file} is up to date (${operations} operations)`);
} else {
  writeFileSync(DOCUMENT_FILE, text);
  console.log(`wrote ${file} (${operations} operations)`);
}
