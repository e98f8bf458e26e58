/**
 * `WWW-Authenticate` parsing (RFC 7235 challenges), the way
 * go-containerregistry's `pkg/v1/remote/transport/ping.go` reads a `/v2/`
 * answer: a scheme and its auth-params, quoted strings unescaped.
 */
export interface Challenge {
  /** Lower-cased: `bearer`, `basic`. */
  scheme: string;
  params: Record<string, string>;
}

/** Parses every challenge in one header value. Unknown shapes yield what could be read. */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const skipSpace = () => { while (i < header.length && /[\s,]/.test(header[i]!)) i++; };
  const token = () => { const start = i; while (i < header.length && /[^\s,=]/.test(header[i]!)) i++; return header.slice(start, i); };
  while (i < header.length) {
    skipSpace();
    const scheme = token();
    if (!scheme) break;
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    for (;;) {
      skipSpace();
      const save = i;
      const key = token();
      if (!key || header[i] !== '=') { i = save; break; }
      i++;
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < header.length && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < header.length) i++;
          value += header[i++];
        }
        i++;
      } else {
        value = token();
      }
      challenge.params[key.toLowerCase()] = value;
    }
  }
  return out;
}
