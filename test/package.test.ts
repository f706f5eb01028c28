// What `npm install gptlab` gets: the compiled library and CLI, and the OpenAI encodings' ranks through a
// runtime dependency (not a dev one), so `gptlab tokenize` works from a normal install.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(fs.readFileSync(root + 'package.json', 'utf8'));

test('runtime needs are dependencies, not dev dependencies', () => {
  assert.ok(pkg.dependencies['js-tiktoken'], 'js-tiktoken (the OpenAI encodings\' ranks) is a runtime dependency');
  assert.equal(pkg.devDependencies['js-tiktoken'], undefined);
});

test('the published package holds the compiled CLI and library, the kernels and the web page', () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const files = new Set((JSON.parse(r.stdout)[0].files as { path: string }[]).map((f) => f.path));
  for (const f of ['dist/src/cli/main.js', 'dist/src/index.js', 'dist/src/node.js', 'dist/src/backend/wasm/kernels.generated.js', 'src/web/chat.html']) {
    assert.ok(files.has(f), `${f} is in the package`);
  }
  assert.ok(![...files].some((f) => f.startsWith('dist/test/') || f.startsWith('test/')), 'tests stay out');
});
