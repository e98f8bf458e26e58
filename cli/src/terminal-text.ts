/**
 * The one escaping helper for user-controlled text on its way to a terminal
 * (issue 13 point 6): Dockerfile lines, file names, build args, image refs,
 * container output in error summaries, warnings. Control characters are shown
 * as Go's %q shows them (`\x1b`, `\r`, `\u009b`), so `ESC]0;…BEL` or `ESC[2J`
 * in a Dockerfile cannot retitle or clear the user's terminal. Newlines and
 * tabs are kept: callers that print one line per element already split on them.
 */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => {
    if (c === '\r') return '\\r';
    const code = c.charCodeAt(0);
    return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
