import type { Repositories } from '../storage/storage.js';
import type { UserRow } from '../storage/entities/user.entity.js';
import { NotFoundError } from '../errors/domain-errors.js';

/** The user a caller names by id (an admin, the CLI), or NotFoundError. */
export async function userOrNotFound(repos: Pick<Repositories, 'users'>, id: string): Promise<UserRow> {
  const user = await repos.users.findById(id);
  if (!user) throw new NotFoundError('user');
  return user;
}
