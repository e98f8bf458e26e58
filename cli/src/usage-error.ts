/** Bad command-line usage: printed with the command's usage line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
