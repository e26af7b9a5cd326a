#!/usr/bin/env node
// Exits 0 when package-lock.json differs from the committed one only in optional platform entries: packages marked
// optional with an "os" or "cpu" field (esbuild's, @parcel/watcher's, ...), which npm adds or drops depending on the
// platform and on which of them the registry serves. Any other difference, or an unreadable lockfile, exits 1 and
// prints what differs, so a stale lockfile still fails the clean-tree check.
const { execFileSync } = require('child_process');
const fs = require('fs');

const committed = JSON.parse(execFileSync('git', ['show', 'HEAD:package-lock.json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
const current = JSON.parse(fs.readFileSync('package-lock.json', 'utf8'));

const isPlatformEntry = (entry) => entry !== undefined && entry.optional === true && (entry.os !== undefined || entry.cpu !== undefined);
const problems = [];

for (const key of new Set([...Object.keys(committed), ...Object.keys(current)])) {
  if (key !== 'packages' && JSON.stringify(committed[key]) !== JSON.stringify(current[key])) problems.push(`top-level "${key}" differs`);
}
const before = committed.packages ?? {};
const after = current.packages ?? {};
for (const path of new Set([...Object.keys(before), ...Object.keys(after)])) {
  if (JSON.stringify(before[path]) === JSON.stringify(after[path])) continue;
  const platform = [before[path], after[path]].every((entry) => entry === undefined || isPlatformEntry(entry));
  if (!platform) problems.push(`packages["${path}"] differs and is not an optional platform entry`);
}

if (problems.length) {
  console.log(`package-lock.json has changes beyond optional platform entries:\n  ${problems.slice(0, 20).join('\n  ')}`);
  process.exit(1);
}
