import { AppError } from '../http/errors.js';

/** Something the admin named does not exist (or is not theirs to see): 404. */
export class NotFoundError extends AppError {
  constructor(what: string) {
    super('not_found', 404, `${what} was not found`);
    this.name = 'NotFoundError';
  }
}

/** A field of the request is wrong: 400 naming the field (snake_case, as in the JSON). */
export class FieldError extends AppError {
  constructor(readonly field: string, message: string) {
    super('invalid_request', 400, `${field}: ${message}`);
    this.name = 'FieldError';
  }

  override details() {
    return { field: this.field };
  }
}

/** One problem of an uploaded file: the 1-based line (null: the whole file), the field, what is wrong. */
export interface FileProblem {
  line: number | null;
  field: string | null;
  message: string;
}

/** An import file with problems: nothing was imported; each problem names its line. */
export class InvalidFileError extends AppError {
  constructor(readonly problems: FileProblem[]) {
    super('invalid_request', 400, `nothing imported: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the file`);
    this.name = 'InvalidFileError';
  }

  override details() {
    return { problems: this.problems };
  }
}

/** The request conflicts with what exists (a duplicate email or role name): 409. */
export class ConflictError extends AppError {
  constructor(readonly field: string, message: string) {
    super('conflict', 409, `${field}: ${message}`);
    this.name = 'ConflictError';
  }

  override details() {
    return { field: this.field };
  }
}
