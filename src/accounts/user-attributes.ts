import type { Storage } from '../storage/storage.js';
import type { AttributeDefinitionRow } from '../storage/attributes.repository.js';
import type { StoredAttributes } from '../storage/entities/user.entity.js';
import type { AuditLog } from '../security/audit.js';
import { recordAdminAction, type AdminActor } from '../security/admin-actor.js';
import { NotFoundError } from '../errors/domain-errors.js';
import type { ProfileEditor } from './user-profile.js';
import {
  applyAttributeChanges,
  attributesOf,
  checkAttributeEditor,
  checkAttributeLabel,
  checkAttributeName,
  checkAttributeScope,
  checkAttributeType,
  type AttributeInput,
} from './attribute-schema.js';

export interface AttributeDefinitionInput {
  name: string;
  label: string;
  type: string;
  required?: boolean;
  editableBy?: string;
  scope?: string;
}

export type AttributeDefinitionChanges = Partial<
  Pick<AttributeDefinitionInput, 'label' | 'required' | 'editableBy' | 'scope'>
>;

/** A user's attributes as a page shows them: every definition, with the user's value where there is one. */
export interface UserAttributes {
  definitions: AttributeDefinitionRow[];
  values: StoredAttributes;
}

/**
 * Custom user attributes (issue 19): admins define the schema (audited); admins set any value,
 * the user on /account only those editable by users. The provider builds its claims from the
 * schema, so `schemaChanged` (the provider host's reload) runs after a definition commits;
 * other replicas see it on their reload timer (docs/protocol.md, "Custom attributes").
 */
export function createUserAttributes(deps: {
  storage: Pick<Storage, 'transaction' | 'users' | 'attributes'>;
  audit: AuditLog;
  schemaChanged?: () => Promise<unknown>;
}) {
  const { storage, audit } = deps;
  const changed = async <T>(result: T): Promise<T> => {
    await deps.schemaChanged?.();
    return result;
  };

  async function definitionOrNotFound(name: string): Promise<AttributeDefinitionRow> {
    const def = await storage.attributes.find(name);
    if (!def) throw new NotFoundError('attribute');
    return def;
  }

  return {
    definitions: (): Promise<AttributeDefinitionRow[]> => storage.attributes.list(),

    async define(input: AttributeDefinitionInput, actor: AdminActor): Promise<AttributeDefinitionRow> {
      const values = {
        name: checkAttributeName(input.name),
        label: checkAttributeLabel(input.label),
        type: checkAttributeType(input.type),
        required: input.required === true,
        editableBy: checkAttributeEditor(input.editableBy ?? 'admin'),
        scope: checkAttributeScope(input.scope ?? 'profile'),
      };
      const def = await storage.transaction(async (tx) => {
        const created = await tx.attributes.create(values);
        await recordAdminAction(audit, tx, actor, 'attribute.defined', {
          details: { attribute: created.name, type: created.type, scope: created.scope },
        });
        return created;
      });
      return changed(def);
    },

    /** Label, required, who may edit and scope change; name and type do not (values are stored by them). */
    async update(name: string, change: AttributeDefinitionChanges, actor: AdminActor): Promise<AttributeDefinitionRow> {
      const current = await definitionOrNotFound(name);
      const next = {
        label: change.label === undefined ? current.label : checkAttributeLabel(change.label),
        required: change.required ?? current.required,
        editableBy: change.editableBy === undefined ? current.editableBy : checkAttributeEditor(change.editableBy),
        scope: change.scope === undefined ? current.scope : checkAttributeScope(change.scope),
      };
      const def = await storage.transaction(async (tx) => {
        const updated = await tx.attributes.update(name, next);
        await recordAdminAction(audit, tx, actor, 'attribute.updated', {
          details: { attribute: name, fields: Object.keys(change) },
        });
        return updated;
      });
      return changed(def);
    },

    /** Deletes the definition and every user's value of it. */
    async remove(name: string, actor: AdminActor): Promise<void> {
      await definitionOrNotFound(name);
      await storage.transaction(async (tx) => {
        await tx.attributes.delete(name);
        await recordAdminAction(audit, tx, actor, 'attribute.deleted', { details: { attribute: name } });
      });
      await changed(undefined);
    },

    async of(userId: string): Promise<UserAttributes> {
      const [user, definitions] = await Promise.all([storage.users.findById(userId), storage.attributes.list()]);
      if (!user) throw new NotFoundError('user');
      return { definitions, values: attributesOf(definitions, user.attributes) };
    },

    /**
     * Validates and saves the values given (the rest stay), audited with the attributes that
     * changed; a user may change only those editable by users. Returns the values after.
     */
    async set(
      userId: string,
      changes: Record<string, unknown>,
      editor: ProfileEditor,
      input: AttributeInput,
    ): Promise<StoredAttributes> {
      return storage.transaction(async (tx) => {
        const [user, definitions] = await Promise.all([tx.users.findById(userId), tx.attributes.list()]);
        if (!user) throw new NotFoundError('user');
        const before = attributesOf(definitions, user.attributes);
        const after = applyAttributeChanges(definitions, user.attributes, changes, input, (def) =>
          editor.kind === 'admin' ? true : def.editableBy === 'user',
        );
        const fields = definitions
          .map((d) => d.name)
          .filter((name) => before[name] !== after[name])
          .map((name) => `attributes.${name}`);
        if (fields.length === 0) return after;
        await tx.attributes.setValues(userId, after);
        if (editor.kind === 'self')
          await audit
            .within(tx)
            .record('user.updated', { actorId: userId, subjectId: userId, details: { fields } }, editor.origin);
        else
          await recordAdminAction(audit, tx, editor.actor, 'user.updated', { subjectId: userId, details: { fields } });
        return after;
      });
    },
  };
}

export type UserAttributesService = ReturnType<typeof createUserAttributes>;
