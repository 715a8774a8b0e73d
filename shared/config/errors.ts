// A config that is wrong in several places says so all at once, one `path: message` line per
// problem, so a person fixes the file in one go. Messages never carry a resolved secret value.
import { TocsinError } from '../errors.ts';

export interface ConfigProblem {
  /** Where the problem is: `routes[2].channels[0]`, `channels.ops-chat.webhookUrl`, `line 3, column 7`. */
  readonly path: string;
  readonly message: string;
}

export class ConfigError extends TocsinError {
  override readonly name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];
  /** The file or parameter the config came from, when known. */
  readonly sourceName: string | undefined;

  constructor(problems: readonly ConfigProblem[], sourceName?: string) {
    const where = sourceName ? ` in ${sourceName}` : '';
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const lines = problems.map((problem) => `  ${problem.path}: ${problem.message}`);
    super([`invalid Tocsin config${where} (${count}):`, ...lines].join('\n'));
    this.problems = problems;
    this.sourceName = sourceName;
  }
}
