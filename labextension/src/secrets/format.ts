import { plain, Translate } from '../pipelines/format';
import { spanText } from '../pipelines/publishing';

/**
 * Pure checks and wording of the Secrets section (unit-tested in `format.test.ts`): whether a name
 * and a value can be sent, and when a secret was last set. No DOM here.
 */

/** The longest secret name (Azure Key Vault's rule, as the core's `check_secret_name`). */
export const MAX_NAME_LENGTH = 127;

/** A secret name: 1-127 letters, digits and `-` (`jupyter_mlws/core/interfaces/secrets.py`). */
export const SECRET_NAME = /^[A-Za-z0-9-]{1,127}$/;

/**
 * Why `name` cannot name a secret, or null when it can. Checked before anything is sent, with the
 * same rule as the server (which checks again): the message says the rule and what broke it.
 */
export function secretNameProblem(
  name: string,
  __: Translate = plain
): string | null {
  if (!name) {
    return __('Enter a name for the secret.');
  }
  if (name.length > MAX_NAME_LENGTH) {
    return __(
      'A secret name has at most %1 characters; this one has %2.',
      MAX_NAME_LENGTH,
      name.length
    );
  }
  if (!SECRET_NAME.test(name)) {
    const bad = [...new Set(name.replace(/[A-Za-z0-9-]/g, ''))]
      .map(c => (c === ' ' ? __('space') : `"${c}"`))
      .join(' ');
    return __('A secret name has only letters, digits and "-" (not %1).', bad);
  }
  return null;
}

/** Why a value cannot be stored (an empty one: delete the secret instead), or null. */
export function secretValueProblem(
  value: string,
  __: Translate = plain
): string | null {
  return value ? null : __("Enter the secret's value.");
}

/** The first problem of the form, the name's before the value's; null when it can be sent. */
export function formProblem(
  name: string,
  value: string,
  __: Translate = plain
): string | null {
  return secretNameProblem(name, __) ?? secretValueProblem(value, __);
}

/** Whether submitting `name` creates a secret or replaces the value of one that is listed. */
export function isReplacement(name: string, listed: Iterable<string>): boolean {
  for (const known of listed) {
    if (known === name) {
      return true;
    }
  }
  return false;
}

/**
 * When a secret was last set, from `now` (epoch ms): `set just now`, `set 4 min ago`, `set 3 days
 * ago`; an unreadable time says nothing.
 */
export function updatedText(
  iso: string | null | undefined,
  now: number,
  __: Translate = plain
): string {
  const at = iso ? Date.parse(iso) : NaN;
  if (Number.isNaN(at)) {
    return '';
  }
  const ms = now - at;
  if (ms < 60_000) {
    return __('set just now'); // a clock a little ahead of the server's too
  }
  return __('set %1 ago', spanText(ms, __));
}
