'use strict';
const test = require('node:test');
const assert = require('node:assert');
const ms = require('ms');

test('ms parses and formats', () => {
  assert.strictEqual(ms('2 days'), 172800000);
  assert.strictEqual(ms(90000, { long: true }), '2 minutes');
});
