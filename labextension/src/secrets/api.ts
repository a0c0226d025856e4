import type { components } from '../api/schema';
import { requestAPI } from '../request';

/** REST types of the workspace's secrets, generated from jupyter_mlws/server/openapi.yaml. */
export type SecretList = components['schemas']['SecretList'];
export type SecretEntry = SecretList['secrets'][number];
export type SecretValueRequest = components['schemas']['SecretValueRequest'];

function secretPath(name: string): string {
  return `secrets/${encodeURIComponent(name)}`;
}

/** Every secret's name and when it was last set (`GET secrets`); no route answers a value. */
export function listSecrets(): Promise<SecretList> {
  return requestAPI<SecretList>('secrets');
}

/** Create or replace a secret (`PUT secrets/{name}`, 204 without a body). */
export async function setSecret(name: string, value: string): Promise<void> {
  const body: SecretValueRequest = { value };
  await requestAPI<null>(secretPath(name), {
    method: 'PUT',
    body: JSON.stringify(body)
  });
}

/** Delete a secret (`DELETE secrets/{name}`, 204; an unknown name is a 404 naming it). */
export async function deleteSecret(name: string): Promise<void> {
  await requestAPI<null>(secretPath(name), { method: 'DELETE' });
}
