// What can go wrong with the local database that a person must act on.
import { TocsinError } from '../errors.ts';

export type DatabaseProblem = 'locked' | 'corrupt' | 'unreadable' | 'full' | 'newer-schema';

/** Opening or writing the database failed in a way a person must act on; `file` names it. */
export class LocalDatabaseError extends TocsinError {
  override readonly name = 'LocalDatabaseError';
  readonly problem: DatabaseProblem;
  readonly file: string;

  constructor(problem: DatabaseProblem, file: string, message: string) {
    super(message);
    this.problem = problem;
    this.file = file;
  }
}
