import type { Repositories } from '../storage/storage.js';
import type { ClientRow } from '../storage/entities/client.entity.js';
import type { UserRow } from '../storage/entities/user.entity.js';
import { NotFoundError } from '../http/errors.js';

/** The user an admin names by id, or a 404. */
export async function userOrNotFound(repos: Pick<Repositories, 'users'>, id: string): Promise<UserRow> {
  const user = await repos.users.findById(id);
  if (!user) throw new NotFoundError('user');
  return user;
}

/** The client an admin names by id, or a 404. */
export async function clientOrNotFound(repos: Pick<Repositories, 'clients'>, id: string): Promise<ClientRow> {
  const client = await repos.clients.find(id);
  if (!client) throw new NotFoundError('client');
  return client;
}
