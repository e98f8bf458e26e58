/** Shell vs exec form of RUN/CMD/ENTRYPOINT/HEALTHCHECK CMD, from the node's JSON attribute. */
import type { CommandForm } from './types.js';

/** `values` are BuildKit's argument chain: the argv in exec form, one verbatim string in shell form. */
export function commandForm(values: readonly string[], json: boolean): CommandForm {
  return json ? { form: 'exec', args: [...values] } : { form: 'shell', command: values.join(' ') };
}
