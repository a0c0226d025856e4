import { describe, expect, it } from 'vitest';

import {
  formProblem,
  isReplacement,
  MAX_NAME_LENGTH,
  secretNameProblem,
  secretValueProblem,
  updatedText
} from './format';

describe('secretNameProblem', () => {
  it('accepts the names the vault accepts (letters, digits, "-", 1-127)', () => {
    for (const name of [
      'API-KEY',
      'a',
      '0',
      'db-password-2',
      'x'.repeat(127)
    ]) {
      expect(secretNameProblem(name)).toBeNull();
    }
  });

  it('asks for a name when there is none', () => {
    expect(secretNameProblem('')).toBe('Enter a name for the secret.');
  });

  it('names the characters that are not allowed, once each', () => {
    expect(secretNameProblem('api_key')).toBe(
      'A secret name has only letters, digits and "-" (not "_").'
    );
    expect(secretNameProblem('my key.v1 x.y')).toBe(
      'A secret name has only letters, digits and "-" (not space ".").'
    );
    expect(secretNameProblem('clé')).toContain('(not "é")');
  });

  it('says how long a name may be', () => {
    expect(secretNameProblem('x'.repeat(MAX_NAME_LENGTH + 1))).toBe(
      'A secret name has at most 127 characters; this one has 128.'
    );
  });

  it('goes through the translation function', () => {
    const shout = (message: string, ...args: unknown[]) =>
      `${message.toUpperCase()}|${args.join(',')}`;
    expect(secretNameProblem('a_b', shout)).toBe(
      'A SECRET NAME HAS ONLY LETTERS, DIGITS AND "-" (NOT %1).|"_"'
    );
  });
});

describe('secretValueProblem and formProblem', () => {
  it('refuses an empty value only', () => {
    expect(secretValueProblem('')).toBe("Enter the secret's value.");
    expect(secretValueProblem(' ')).toBeNull();
    expect(secretValueProblem('s3cr3t')).toBeNull();
  });

  it("says the name's problem before the value's", () => {
    expect(formProblem('', '')).toBe('Enter a name for the secret.');
    expect(formProblem('API-KEY', '')).toBe("Enter the secret's value.");
    expect(formProblem('API-KEY', 'v')).toBeNull();
  });
});

describe('isReplacement', () => {
  it('is true for a listed name only (names are case-sensitive)', () => {
    const listed = ['API-KEY', 'DB'];
    expect(isReplacement('DB', listed)).toBe(true);
    expect(isReplacement('db', listed)).toBe(false);
    expect(isReplacement('', listed)).toBe(false);
    expect(isReplacement('DB', new Set(listed))).toBe(true);
  });
});

describe('updatedText', () => {
  const NOW = Date.parse('2026-12-04T16:00:00Z');
  const ago = (ms: number) => new Date(NOW - ms).toISOString();

  it('says how long ago a secret was set', () => {
    expect(updatedText(ago(5_000), NOW)).toBe('set just now');
    expect(updatedText(ago(4 * 60_000), NOW)).toBe('set 4 min ago');
    expect(updatedText(ago(3 * 86_400_000), NOW)).toBe('set 3 days ago');
  });

  it('says "just now" for a server clock a little ahead', () => {
    expect(updatedText(new Date(NOW + 2_000).toISOString(), NOW)).toBe(
      'set just now'
    );
  });

  it('says nothing of an unreadable time', () => {
    expect(updatedText('not a time', NOW)).toBe('');
    expect(updatedText(null, NOW)).toBe('');
    expect(updatedText(undefined, NOW)).toBe('');
  });
});
