import { expect } from 'chai';
import { commands } from '../src/commands/index.js';

describe('command table (lazy command modules)', function () {
  it('lists each command once', function () {
    const names = commands.map((c) => c.name);
    expect(new Set(names).size).to.equal(names.length);
  });

  for (const entry of commands) {
    it(`${entry.name}: the module loaded on demand has the table's name, summary and usage`, async function () {
      const command = await entry.load();
      expect({ name: command.name, summary: command.summary, usage: command.usage })
        .to.deep.equal({ name: entry.name, summary: entry.summary, usage: entry.usage });
    });
  }
});
