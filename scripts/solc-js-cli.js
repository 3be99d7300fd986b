#!/usr/bin/env node
// Presents solc-js (npm `solc`) as the native `solc` command line, for forge and py-solc-x.
// Called by scripts/solc, which has already buffered stdin into a file and will copy our
// output file to stdout: node must never read a non-blocking pipe (EAGAIN) nor write a large
// result to a pipe just before exiting (it is cut short).
//
// Usage: solc-js-cli.js OUT_FILE IN_FILE [solc arguments...]
'use strict';
const fs = require('fs');
const path = require('path');

const [outFile, inFile, ...args] = process.argv.slice(2);
const solc = require(path.join(__dirname, '..', 'node_modules', 'solc'));

function write(text) {
  fs.writeFileSync(outFile, text);
}

function usageError(message) {
  fs.writeFileSync(outFile, '');
  process.stderr.write(`solc (solc-js wrapper): ${message}\n`);
  process.exit(1);
}

// Options taking a value, as in the native CLI. --allow-paths is accepted and ignored:
// solc-js reads files only through the import callback below.
const valued = new Set(['--allow-paths', '--base-path', '--include-path', '--evm-version',
  '--optimize-runs', '--output-dir', '-o', '--libraries', '--pretty-json']);
const includePaths = [];
let basePath = null;
let mode = null;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--version' || a === '-v') mode = 'version';
  else if (a === '--standard-json') mode = 'standard-json';
  else if (a === '--help') mode = 'help';
  else if (a.startsWith('--allow-paths=')) continue;
  else if (valued.has(a)) {
    const v = args[++i];
    if (a === '--base-path') basePath = v;
    if (a === '--include-path') includePaths.push(v);
  } else if (a.startsWith('--base-path=')) basePath = a.slice('--base-path='.length);
  else if (a.startsWith('--include-path=')) includePaths.push(a.slice('--include-path='.length));
  else if (a === '-' || a === '--no-color' || a === '--color') continue;
  else if (!a.startsWith('-') && mode === 'standard-json') continue; // input file given as argument
  else if (!a.startsWith('-')) usageError(`only --standard-json input is supported, got file ${a}`);
}

if (mode === 'version') {
  // Native format: "Version: 0.8.37+commit.f401782d.Linux.g++" — forge and py-solc-x parse it.
  const v = solc.version().replace('.Emscripten.clang', '.Linux.g++');
  write(`solc, the solidity compiler commandline interface\nVersion: ${v}\n`);
  process.exit(0);
}
if (mode === 'help' || mode === null) {
  write('solc-js wrapper: supports --version and --standard-json (stdin or a file argument).\n');
  process.exit(mode === 'help' ? 0 : 1);
}

let input = fs.readFileSync(inFile, 'utf8');
const fileArg = args.find((a, i) => !a.startsWith('-') && !valued.has(args[i - 1] || ''));
if (fileArg && fileArg !== '-') input = fs.readFileSync(fileArg, 'utf8');

const roots = [basePath || process.cwd(), ...includePaths, process.cwd()];
function findImports(importPath) {
  for (const root of roots) {
    const candidate = path.resolve(root, importPath);
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, 'utf8') };
  }
  return { error: `File not found: ${importPath} (searched ${roots.join(', ')})` };
}

const output = solc.compile(input, { import: findImports });
write(output.split('\n').filter((l) => !l.startsWith('>>>')).join('\n'));
