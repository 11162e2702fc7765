import { z } from 'zod';
import type { AttributeDefinitionRow } from '../../storage/attributes.repository.js';
import { ATTRIBUTE_EDITORS, ATTRIBUTE_SCOPES, ATTRIBUTE_TYPES } from '../../accounts/attribute-schema.js';
import type { AdminServices } from '../services.js';
import { idParams, iso, timestamp } from './common.js';
import { defineRoute } from './route.js';

const attributeView = z.object({
  name: z.string(),
  label: z.string(),
  type: z.enum(ATTRIBUTE_TYPES),
  required: z.boolean(),
  editable_by: z.enum(ATTRIBUTE_EDITORS),
  scope: z.string(),
  created_at: timestamp,
  updated_at: timestamp,
});
const viewAttribute = (d: AttributeDefinitionRow): z.input<typeof attributeView> => ({
  name: d.name,
  label: d.label,
  type: d.type,
  required: d.required,
  editable_by: d.editableBy,
  scope: d.scope,
  created_at: iso(d.createdAt) ?? '',
  updated_at: iso(d.updatedAt) ?? '',
});

const changeFields = {
  label: z.string().min(1).max(200).describe('What forms call it.'),
  required: z.boolean().describe('A value cannot be cleared (forms and this API refuse an empty one).'),
  editable_by: z
    .enum(ATTRIBUTE_EDITORS)
    .describe('admin: only admins (shown read-only on /account); user: also the user on /account.'),
  scope: z.enum(ATTRIBUTE_SCOPES).describe('The scope whose grant releases the claim in the ID token and userinfo.'),
};
const nameParams = z.strictObject({ name: z.string().min(1).max(64) });

const value = z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]);
const values = z
  .record(z.string().max(64), value)
  .describe("Attribute name → value of the attribute's type (string, number, boolean, YYYY-MM-DD); null clears.");
const userAttributes = z.object({
  user_id: z.string(),
  // A member with a keyword of its own keeps the union an anyOf (a list of types is not strict JSON Schema).
  attributes: z.record(
    z.string(),
    z.union([z.string().describe('A string, or a date YYYY-MM-DD.'), z.number(), z.boolean()]),
  ),
});

/** Custom user attributes: the schema (docs/protocol.md, "Custom attributes") and a user's values. */
export function attributeRoutes(admin: AdminServices) {
  const { attributes } = admin;
  return [
    defineRoute({
      method: 'get',
      path: '/attributes',
      tag: 'attributes',
      scope: 'admin:read',
      summary: 'List the custom user attributes',
      status: 200,
      response: z.object({ items: z.array(attributeView) }),
      handler: async () => ({ items: (await attributes.definitions()).map(viewAttribute) }),
    }),
    defineRoute({
      method: 'post',
      path: '/attributes',
      tag: 'attributes',
      scope: 'admin:write',
      summary: 'Define a custom user attribute (its name is its claim)',
      conflicts: true,
      body: z.strictObject({
        name: z.string().min(1).max(64).describe('Lower-case letters, digits and _; not a standard claim.'),
        type: z.enum(ATTRIBUTE_TYPES),
        ...changeFields,
        required: changeFields.required.optional(),
        editable_by: changeFields.editable_by.optional().describe('Default admin.'),
        scope: changeFields.scope.optional().describe('Default profile.'),
      }),
      status: 201,
      response: attributeView,
      handler: async ({ body, actor }) =>
        viewAttribute(
          await attributes.define(
            {
              name: body.name,
              label: body.label,
              type: body.type,
              required: body.required,
              editableBy: body.editable_by,
              scope: body.scope,
            },
            actor,
          ),
        ),
    }),
    defineRoute({
      method: 'patch',
      path: '/attributes/:name',
      tag: 'attributes',
      scope: 'admin:write',
      summary: "Change an attribute's label, required, editable_by or scope (name and type stay)",
      params: nameParams,
      body: z.strictObject({
        label: changeFields.label.optional(),
        required: changeFields.required.optional(),
        editable_by: changeFields.editable_by.optional(),
        scope: changeFields.scope.optional(),
      }),
      status: 200,
      response: attributeView,
      handler: async ({ params, body, actor }) =>
        viewAttribute(
          await attributes.update(
            params.name,
            {
              ...(body.label !== undefined ? { label: body.label } : {}),
              ...(body.required !== undefined ? { required: body.required } : {}),
              ...(body.editable_by !== undefined ? { editableBy: body.editable_by } : {}),
              ...(body.scope !== undefined ? { scope: body.scope } : {}),
            },
            actor,
          ),
        ),
    }),
    defineRoute({
      method: 'delete',
      path: '/attributes/:name',
      tag: 'attributes',
      scope: 'admin:write',
      summary: "Delete an attribute and every user's value of it",
      params: nameParams,
      status: 204,
      handler: async ({ params, actor }) => {
        await attributes.remove(params.name, actor);
        return undefined;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/users/:id/attributes',
      tag: 'attributes',
      scope: 'admin:read',
      summary: "A user's custom attribute values (unset ones are absent)",
      params: idParams,
      status: 200,
      response: userAttributes,
      handler: async ({ params }) => ({ user_id: params.id, attributes: (await attributes.of(params.id)).values }),
    }),
    defineRoute({
      method: 'patch',
      path: '/users/:id/attributes',
      tag: 'attributes',
      scope: 'admin:write',
      summary: "Set a user's custom attribute values; those left out keep theirs",
      params: idParams,
      body: values,
      status: 200,
      response: userAttributes,
      handler: async ({ params, body, actor }) => ({
        user_id: params.id,
        attributes: await attributes.set(params.id, body, { kind: 'admin', actor }, 'json'),
      }),
    }),
  ];
}
