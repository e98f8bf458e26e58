// Prints durations in words, with the one dependency (ms, from the npm registry).
'use strict';
const ms = require('ms');

const durations = process.argv.slice(2);
for (const d of durations.length ? durations : ['90s', '2 days']) {
  const millis = ms(d);
  console.log(`${d} = ${millis} ms = ${ms(millis, { long: true })}`);
}
console.log(`node ${process.version}, ms ${require('ms/package.json').version}`);
