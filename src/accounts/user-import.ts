import { z } from 'zod';
import { normalizeEmail, type ImportedUser, type UsersRepository } from '../storage/users.repository.js';
import { ROLE_NAME } from '../roles/role-fields.js';
import { findUnstorableText } from '../storage/storable-text.js';
import type { Repositories, Storage } from '../storage/storage.js';
import type { SecretBox } from '../security/secret-box.js';
import { checkEmail, checkTotpSecret } from './user-fields.js';
import { InvalidFileError, InvalidInputError, type FileProblem } from '../errors/domain-errors.js';
import { checkImportedHash, type HashScheme } from './legacy-passwords.js';
import { TOTP_SECRET_CONTEXT } from './totp.js';

/**
 * Bringing users over from another system, and taking them out again: one JSON object per
 * line (JSONL), the same format both ways. docs/import.md is the reference for operators.
 *
 * Nothing here echoes a value from the file: a problem names the line and the field, never
 * what the field held (the file carries password hashes and TOTP secrets).
 */

/** An import is one transaction; beyond this many users, split the file. */
const IMPORT_MAX_USERS = 100_000;

function valid(check: (value: string) => unknown, message: string) {
  return (value: string, ctx: z.RefinementCtx) => {
    try {
      check(value);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      ctx.addIssue({ code: 'custom', message });
    }
  };
}

const userLine = z.strictObject({
  email: z.string().max(320).superRefine(valid(checkEmail, 'not an email address')),
  name: z.string().max(200).nullable().optional(),
  email_verified: z.boolean().optional(),
  disabled: z.boolean().optional(),
  // Role names; a role that does not exist yet is created with the import.
  roles: z
    .array(z.string().regex(ROLE_NAME, 'not a role name (letters, digits and _ . : -, at most 100)'))
    .max(100)
    .optional(),
  totp_secret: z
    .string()
    .max(200)
    .nullable()
    .optional()
    .superRefine((value, ctx) => {
      if (value) valid(checkTotpSecret, 'must be a base32 secret of at least 16 characters')(value, ctx);
    }),
  password_hash: z
    .string()
    .max(1024)
    .nullable()
    .optional()
    .superRefine((value, ctx) => {
      if (value === null || value === undefined) return;
      const check = checkImportedHash(value);
      if (!check.ok) ctx.addIssue({ code: 'custom', message: check.problem });
    }),
});

/** One line of an import or export file. */
export type UserFileRecord = z.infer<typeof userLine>;

export interface ImportSummary {
  imported: number;
  /** How many users came with each hash format ("none": no password, e.g. passkey-only). */
  passwordHashes: Partial<Record<HashScheme | 'none', number>>;
  withTotp: number;
  /** Role assignments made, and roles the file named that had to be created. */
  roleAssignments: number;
  rolesCreated: string[];
}

interface ParsedLine {
  line: number;
  record: UserFileRecord;
}

function issueProblems(line: number, issues: z.core.$ZodIssue[]): FileProblem[] {
  return issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') return { line, field: issue.keys.join(', '), message: 'unknown field' };
    const field = issue.path.map(String).join('.');
    return { line, field: field || null, message: issue.message };
  });
}

/** Parses and checks every line (no database); duplicates within the file are problems too. */
function parseUserFile(text: string): { lines: ParsedLine[]; problems: FileProblem[] } {
  const lines: ParsedLine[] = [];
  const problems: FileProblem[] = [];
  const firstLineOf = new Map<string, number>();
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, index) => {
      const line = index + 1;
      if (raw.trim() === '') return;
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        // Not the parser's message: it quotes the line, which may hold a hash.
        problems.push({ line, field: null, message: 'not valid JSON' });
        return;
      }
      const parsed = userLine.safeParse(json);
      if (!parsed.success) {
        problems.push(...issueProblems(line, parsed.error.issues));
        return;
      }
      const unstorable = findUnstorableText(parsed.data);
      if (unstorable) {
        problems.push({ line, field: unstorable.path.join('.') || null, message: unstorable.problem });
        return;
      }
      const key = normalizeEmail(parsed.data.email);
      const first = firstLineOf.get(key);
      if (first !== undefined) {
        problems.push({ line, field: 'email', message: `same email as line ${first}` });
        return;
      }
      firstLineOf.set(key, line);
      lines.push({ line, record: parsed.data });
    });
  if (lines.length === 0 && problems.length === 0)
    problems.push({ line: null, field: null, message: 'no users in the file' });
  if (lines.length > IMPORT_MAX_USERS) {
    problems.push({ line: null, field: null, message: `more than ${IMPORT_MAX_USERS} users: split the file` });
  }
  return { lines, problems };
}

/** The records of an export, one JSON object per line, newline-terminated. */
export function toJsonLines(records: UserFileRecord[]): string {
  return records.map((record) => `${JSON.stringify(record)}\n`).join('');
}

/** Import and export of users; called by the CLI and the admin API. */
export function createUserImport(deps: {
  users: UsersRepository;
  box: SecretBox;
  transaction: Storage['transaction'];
}) {
  const { users, box } = deps;
  return {
    /**
     * Checks the whole file, then imports all of it in one transaction, or nothing. A bad
     * line, or an email that already has a user, refuses the file with every problem listed.
     * Imported hashes are stored as they are (no password policy: the password is unknown)
     * and replaced by argon2id at the user's first sign-in.
     */
    async importUsers(
      text: string,
      alsoInTransaction?: (tx: Repositories, summary: ImportSummary) => Promise<void>,
    ): Promise<ImportSummary> {
      const { lines, problems } = parseUserFile(text);
      if (lines.length > 0 && lines.length <= IMPORT_MAX_USERS) {
        const existing = await users.existingEmails(lines.map(({ record }) => normalizeEmail(record.email)));
        for (const { line, record } of lines) {
          if (existing.has(normalizeEmail(record.email)))
            problems.push({ line, field: 'email', message: 'a user with this email exists' });
        }
      }
      if (problems.length > 0) {
        throw new InvalidFileError(problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));
      }
      const summary: ImportSummary = {
        imported: 0,
        passwordHashes: {},
        withTotp: 0,
        roleAssignments: 0,
        rolesCreated: [],
      };
      const inputs: ImportedUser[] = lines.map(({ record }) => {
        const hash = record.password_hash ?? null;
        const check = hash === null ? null : checkImportedHash(hash);
        const scheme = check?.ok ? check.scheme : 'none';
        summary.passwordHashes[scheme] = (summary.passwordHashes[scheme] ?? 0) + 1;
        const totp = record.totp_secret ? box.seal(checkTotpSecret(record.totp_secret), TOTP_SECRET_CONTEXT) : null;
        if (totp) summary.withTotp += 1;
        return {
          email: checkEmail(record.email),
          name: record.name?.trim() || null,
          emailVerified: record.email_verified ?? false,
          disabled: record.disabled ?? false,
          passwordHash: hash,
          totpSecretEncrypted: totp,
        };
      });
      await deps.transaction(async (tx) => {
        const ids = await tx.users.createMany(inputs);
        const assignments = lines.flatMap(({ record }, index) =>
          [...new Set(record.roles ?? [])].map((role) => ({ userId: ids[index] ?? '', role })),
        );
        summary.imported = ids.length;
        summary.rolesCreated = await tx.roles.assignMany(assignments);
        summary.roleAssignments = assignments.length;
        // The caller's audit event commits with the users, or neither does.
        await alsoInTransaction?.(tx, summary);
      });
      return summary;
    },

    /**
     * Every user in the import format, for backup or migration out: the stored password hash
     * and the TOTP secret in clear. The result is as sensitive as the database itself.
     * Passkeys (bound to this server's RP ID) and recovery codes (keyed by this server's
     * secret) cannot move and are not included.
     */
    async exportUsers(): Promise<UserFileRecord[]> {
      const rows = await users.listForExport();
      return rows.map(({ user, passwordHash, totpSecretEncrypted, roles }) => ({
        email: user.email,
        ...(user.name === null ? {} : { name: user.name }),
        email_verified: user.emailVerified,
        disabled: user.disabledAt !== null,
        ...(roles.length > 0 ? { roles } : {}),
        ...(totpSecretEncrypted === null ? {} : { totp_secret: box.open(totpSecretEncrypted, TOTP_SECRET_CONTEXT) }),
        ...(passwordHash === null ? {} : { password_hash: passwordHash }),
      }));
    },
  };
}

export type UserImport = ReturnType<typeof createUserImport>;
