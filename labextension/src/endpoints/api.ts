import type { components } from '../api/schema';
import { requestAPI } from '../request';

/** REST types of web services, generated from jupyter_mlws/server/openapi.yaml. */
export type Webservice = components['schemas']['Webservice'];
export type WebservicePage = components['schemas']['WebservicePage'];
export type WebserviceState = components['schemas']['WebserviceState'];
export type WebserviceKeys = components['schemas']['WebserviceKeys'];
export type WebserviceLog = components['schemas']['WebserviceLog'];
export type WebserviceTelemetry = components['schemas']['WebserviceTelemetry'];
export type TelemetryBucket = components['schemas']['TelemetryBucket'];
export type WebserviceTestReply = components['schemas']['WebserviceTestReply'];

function servicePath(name: string, rest = ''): string {
  return `webservices/${encodeURIComponent(name)}${rest}`;
}

/** Every deployed web service with its live state. */
export function listWebservices(): Promise<WebservicePage> {
  return requestAPI<WebservicePage>('webservices');
}

/** One web service with its live state. */
export function getWebservice(name: string): Promise<Webservice> {
  return requestAPI<Webservice>(servicePath(name));
}

/** The service's two keys. */
export function getWebserviceKeys(name: string): Promise<WebserviceKeys> {
  return requestAPI<WebserviceKeys>(servicePath(name, '/keys'));
}

/** The last lines of the service log. */
export function readWebserviceLog(
  name: string,
  numLines = 500
): Promise<WebserviceLog> {
  return requestAPI<WebserviceLog>(
    servicePath(name, `/logs?num_lines=${numLines}`)
  );
}

/** The service's requests in buckets of `bucketS` seconds over the last `windowS` seconds. */
export function getWebserviceTelemetry(
  name: string,
  windowS: number,
  bucketS: number
): Promise<WebserviceTelemetry> {
  return requestAPI<WebserviceTelemetry>(
    servicePath(name, `/telemetry?since=-${windowS}&bucket_s=${bucketS}`)
  );
}

/** Send `body` (JSON text) to the service with its primary key; what the service answered. */
export function testWebservice(
  name: string,
  body: string
): Promise<WebserviceTestReply> {
  return requestAPI<WebserviceTestReply>(servicePath(name, '/test'), {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/json' }
  });
}
