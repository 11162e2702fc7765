import {
  ConflictError,
  InvalidFileError,
  InvalidInputError,
  NotFoundError,
  PolicyRefusedError,
  type DomainError,
  type FileProblem,
} from '../errors/domain-errors.js';
import { AppError } from './errors.js';

/**
 * A refusal of one field as HTTP: the field in the body (`field`, snake_case as in the JSON)
 * and in front of the description, which is the shape the admin API has always answered
 * (docs/admin.md, the OpenAPI document's error schema).
 */
class FieldRefusedResponse extends AppError {
  constructor(
    code: string,
    status: number,
    readonly field: string,
    message: string,
  ) {
    super(code, status, `${field}: ${message}`);
    this.name = 'FieldRefusedResponse';
  }

  override details(): Record<string, unknown> {
    return { field: this.field };
  }
}

class InvalidFileResponse extends AppError {
  constructor(
    readonly problems: FileProblem[],
    message: string,
  ) {
    super('invalid_request', 400, message);
    this.name = 'InvalidFileResponse';
  }

  override details(): Record<string, unknown> {
    return { problems: this.problems };
  }
}

/**
 * The one mapping of domain errors to HTTP, for every route (the admin API's JSON and the
 * pages' error page alike; the error handler calls it): invalid input and a policy's refusal
 * 400 naming the field, a conflict 409 naming it, not found 404, a refused file 400 listing
 * its problems. A form that shows the refusal beside its field maps it itself, first
 * (web/kit/form-errors.ts).
 */
export function httpErrorOf(error: DomainError): AppError {
  if (error instanceof ConflictError) return new FieldRefusedResponse('conflict', 409, error.field, error.message);
  if (error instanceof InvalidInputError || error instanceof PolicyRefusedError) {
    return new FieldRefusedResponse('invalid_request', 400, error.field, error.message);
  }
  if (error instanceof NotFoundError) return new AppError('not_found', 404, error.message);
  if (error instanceof InvalidFileError) return new InvalidFileResponse(error.problems, error.message);
  return new AppError('invalid_request', 400, error.message);
}
