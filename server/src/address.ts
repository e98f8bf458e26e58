/** Server addresses as buildkitd spells them: `unix:///path/to.sock` or `tcp://host:port`. */
import { InvalidArgumentError } from '@tsbuild/core';

export type ServerAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export function parseAddress(text: string): ServerAddress {
  if (text.startsWith('unix://')) {
    const path = text.slice('unix://'.length);
    if (!path.startsWith('/')) throw bad(text, 'a unix address needs an absolute path (unix:///run/tsbuild/tsbuild.sock)');
    return { kind: 'unix', path };
  }
  const m = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[^:/\[\]]+):(\d{1,5})$/.exec(text);
  if (m) {
    const port = Number(m[2]);
    if (port > 65535) throw bad(text, 'port out of range');
    return { kind: 'tcp', host: m[1]!.replace(/^\[|\]$/g, ''), port };
  }
  throw bad(text, 'expected unix:///PATH or tcp://HOST:PORT');
}

export function formatAddress(a: ServerAddress): string {
  return a.kind === 'unix' ? `unix://${a.path}` : `tcp://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

function bad(text: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`server address ${JSON.stringify(text)}: ${why}`, { code: 'SERVER_BAD_ADDRESS' });
}
