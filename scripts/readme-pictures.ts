/**
 * Makes the README's pictures (docs/images/*.png) from real builds:
 *
 *   npm run build && npm run pictures
 *
 * - tty-rebuild.png: the tty UI's last frame of a rebuild of
 *   examples/Dockerfiles/hello after greet.sh changed, as a terminal showed it.
 *   The build runs on a pseudo-terminal (util-linux `script`, 100×40) so
 *   `--progress auto` picks the tty UI and its colours; what the terminal
 *   received is replayed through the few escape sequences the UI writes
 *   (`replay` below: cursor up, erase line/below, SGR colours) and the final
 *   screen is drawn as HTML on a dark terminal theme.
 * - report.png, report-failed.png: `--report` of examples/Dockerfiles/multistage
 *   rebuilt after one stage's RUN changed (cached and rebuilt steps), and of a
 *   variant whose final RUN fails (`set -x` so the failure has output).
 *
 * Each page is screenshotted by headless Chromium (/usr/bin/chromium, Debian's)
 * at its own size. Everything runs in a fresh store under a temp dir with the
 * context watcher off, all removed at the end, so a run leaves nothing behind
 * and running it again only rewrites the PNGs. Not run in CI: the pictures are
 * committed. Needs the bundled CLI (`npm run build`), root, crun/runc and
 * busybox-static (scripts/setup.sh).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeBusyboxRootfs, tempDir } from '../test/support/fixtures.js';

const repo = resolve(import.meta.dirname, '..');
const bin = join(repo, 'cli/bin/tsbuild.js');
const images = join(repo, 'docs/images');
const CHROMIUM = '/usr/bin/chromium';
const COLS = 100;
const ROWS = 40;

const tmp = tempDir('tsbuild-pictures-');
const root = join(tmp.path, 'root');
const env: NodeJS.ProcessEnv = { ...process.env, TSBUILD_ROOT: root, TSBUILD_CONTEXT_WATCH: '0' };
delete env['NO_COLOR'];
delete env['BUILDKIT_COLORS'];

function tsbuild(...args: string[]): void {
  execFileSync(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] }); // its error carries stderr
}

/** A copy of an example's context to edit; the examples themselves stay untouched. */
function example(name: string): string {
  const dir = join(tmp.path, name);
  cpSync(join(repo, 'examples/Dockerfiles', name), dir, { recursive: true });
  return dir;
}

function edit(file: string, from: string, to: string): void {
  const text = readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} no longer contains ${JSON.stringify(from)}: update scripts/readme-pictures.ts`);
  writeFileSync(file, text.replace(from, to));
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs tsbuild on a COLS×ROWS pseudo-terminal; returns the bytes the terminal received. */
function onPty(args: string[]): string {
  const cmd = `stty cols ${COLS} rows ${ROWS} && exec ${[process.execPath, bin, ...args].map(quote).join(' ')}`;
  const r = spawnSync('script', ['-qfec', cmd, '/dev/null'], { encoding: 'utf8', env, timeout: 120_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) throw new Error(`tsbuild ${args.join(' ')} on a pty failed:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

interface Cell { ch: string; sgr: number[] }

/**
 * The screen after `output`: the tty UI redraws its frame in place (`ESC[nA`
 * up, `\r`, `ESC[2K` per line, `ESC[J` below), so the last frame is what is
 * left. Only the sequences that UI writes are understood; anything else throws
 * rather than draw a wrong picture. Lines are cut to width by the UI itself.
 */
function replay(output: string): Cell[][] {
  const screen: Cell[][] = [[]];
  let row = 0;
  let col = 0;
  let sgr: number[] = [];
  const line = () => (screen[row] ??= []);
  const re = /\x1b\[([0-9;?]*)([A-Za-z])|\r|\n|[^\x1b\r\n]/gu;
  for (const m of output.matchAll(re)) {
    const [token, params, cmd] = m;
    if (token === '\r') col = 0;
    else if (token === '\n') { row++; col = 0; line(); }
    else if (cmd === undefined) { line()[col++] = { ch: token, sgr }; }
    else if (cmd === 'A') row = Math.max(0, row - Number(params || 1));
    else if (cmd === 'K' && params === '2') screen[row] = [];
    else if (cmd === 'J' && (params === '' || params === '0')) { line().length = col; screen.length = row + 1; }
    else if (cmd === 'm') sgr = params === '' || params === '0' ? [] : [...sgr, ...params!.split(';').map(Number)];
    else if (cmd === 'l' || cmd === 'h') { /* cursor shown or hidden: nothing to draw */ }
    else throw new Error(`replay: escape sequence ESC[${params}${cmd} is not understood`);
  }
  while (screen.length > 1 && screen[screen.length - 1]!.length === 0) screen.pop();
  return screen;
}

/** A dark terminal theme (VS Code's), for SGR 30–37 and 90–97. */
const THEME: Record<number, string> = {
  30: '#000000', 31: '#cd3131', 32: '#0dbc79', 33: '#e5e510', 34: '#3b8eea', 35: '#bc3fbc', 36: '#11a8cd', 37: '#e5e5e5',
  90: '#666666', 91: '#f14c4c', 92: '#23d18b', 93: '#f5f543', 94: '#3b8eea', 95: '#d670d6', 96: '#29b8db', 97: '#ffffff',
};

function cssOf(sgr: number[]): string {
  let style = '';
  for (const n of sgr) {
    if (THEME[n]) style += `color:${THEME[n]};`;
    else if (n === 1) style += 'font-weight:bold;';
    else if (n === 2) style += 'opacity:.6;';
    else if (n !== 39 && n !== 22) throw new Error(`replay: SGR ${n} has no colour in the picture's theme`);
  }
  return style;
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function terminalHtml(prompt: string, screen: Cell[][]): string {
  const lines = screen.map((cells) => {
    let html = '';
    for (let i = 0; i < cells.length;) {
      const style = cssOf(cells[i]?.sgr ?? []);
      let text = '';
      for (; i < cells.length && cssOf(cells[i]?.sgr ?? []) === style; i++) text += cells[i]?.ch ?? ' ';
      html += style ? `<span style="${style}">${escapeHtml(text)}</span>` : escapeHtml(text);
    }
    return html;
  });
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><style>
body{margin:0;display:inline-block;background:#fff}
.term{margin:12px;background:#1e1e1e;color:#cccccc;border-radius:8px;padding:14px 18px;font:14px/1.45 'DejaVu Sans Mono',monospace;white-space:pre;width:${COLS}ch}
.prompt{color:#23d18b}
</style></head><body><div class="term"><span class="prompt">$ </span>${escapeHtml(prompt)}\n${lines.join('\n')}</div></body></html>`;
}

/**
 * Screenshots `html` with headless Chromium at the page's own size: a first
 * load measures the body (`--dump-dom` runs a measuring script added to a copy),
 * the second one takes the picture at exactly that size.
 */
function screenshot(html: string, png: string, width: number): void {
  const page = join(tmp.path, 'page.html');
  const chromium = (...args: string[]) => execFileSync(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--force-device-scale-factor=1', ...args,
  ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  writeFileSync(page, html.replace('</body>', `<script>{const r=document.body.getBoundingClientRect(),s=getComputedStyle(document.body);
document.body.dataset.size=Math.ceil(r.right+parseFloat(s.marginRight))+'x'+Math.ceil(r.bottom+parseFloat(s.marginBottom))}</script></body>`));
  const size = /data-size="(\d+)x(\d+)"/.exec(chromium(`--window-size=${width},800`, '--dump-dom', `file://${page}`));
  if (!size) throw new Error('chromium did not measure the page');
  writeFileSync(page, html);
  chromium(`--window-size=${size[1]},${size[2]}`, `--screenshot=${png}`, `file://${page}`);
  console.log(`${png}: ${size[1]}×${size[2]}`);
}

try {
  mkdirSync(images, { recursive: true });
  const rootfs = makeBusyboxRootfs(join(tmp.path, 'busybox'));
  tsbuild('import', rootfs, '-t', 'busybox:latest', '--change', 'CMD ["sh"]');

  const hello = example('hello');
  tsbuild('build', '-t', 'hello', hello);
  appendFileSync(join(hello, 'greet.sh'), '# greet.sh changed: its COPY and the RUN after it rebuild\n');
  const frame = replay(onPty(['build', '-t', 'hello', hello]));
  screenshot(terminalHtml('tsbuild build -t hello examples/Dockerfiles/hello', frame), join(images, 'tty-rebuild.png'), 1200);

  const multistage = example('multistage');
  const dockerfile = join(multistage, 'Dockerfile');
  tsbuild('build', '-t', 'multistage', multistage);
  edit(dockerfile, `printf 'alpha\\nbeta\\n'`, `printf 'alpha\\nbeta\\ngamma\\n'`);
  const report = join(tmp.path, 'report.html');
  tsbuild('build', '-t', 'multistage', '--report', report, multistage);
  screenshot(readFileSync(report, 'utf8'), join(images, 'report.png'), 1400);

  edit(dockerfile, `printf 'alpha\\nbeta\\ngamma\\n'`, `printf 'omega\\nbeta\\n'`);
  edit(dockerfile, 'set -e\n', 'set -ex\n');
  const failed = join(tmp.path, 'report-failed.html');
  const r = spawnSync(process.execPath, [bin, 'build', '-t', 'multistage', '--report', failed, multistage], { env, stdio: 'ignore' });
  if (r.status === 0) throw new Error('the failing variant of multistage built: update scripts/readme-pictures.ts');
  screenshot(readFileSync(failed, 'utf8'), join(images, 'report-failed.png'), 1400);
} finally {
  tmp.cleanup();
}
