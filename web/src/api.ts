// Types of what `streamflow serve` answers (see /api/v1/openapi.json) and a fetch helper that
// carries the access token when the page was opened with one.

export interface Stage {
  name: "ingest" | "cdc" | "spark" | "cassandra";
  state: "ok" | "behind" | "down";
  total: number | null;
  rate_per_s: number | null;
  lag: number | null;
  lag_unit: string;
  errors: number | null;
  detail: string;
}

export interface Health {
  at: number;
  stages: Stage[];
  services: { name: string; healthy: boolean; detail: string }[];
  freshness_s: number | null;
  dead_letters: number | null;
  rejects: number | null;
  failed_batches: number | null;
  connector: string;
}

export interface Totals {
  users: number;
  countries: number;
  staging_users: number | null;
  rejects: number | null;
  dead_letters: number | null;
  freshness_s: number | null;
  signups_last_hour: number;
}

export interface Snapshot {
  health: Health;
  totals: Totals | null;
}

export interface Signups {
  by: string;
  points: { minute: string; key: string; signups: number }[];
  totals: Record<string, number>;
}

export interface TopCountries {
  countries: { country_code: string; country: string; users: number }[];
}

export interface Coordinates {
  points: { lat: number; lon: number; country_code: string }[];
}

const token = new URLSearchParams(window.location.search).get("access_token");

/** An API URL relative to the page, with the page's access token if it had one. */
export function apiUrl(path: string, params: Record<string, string> = {}): string {
  const url = new URL(path, window.location.href);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  if (token) url.searchParams.set("access_token", token);
  return url.toString();
}

export async function getJson<T>(path: string, params: Record<string, string> = {}): Promise<T> {
  const res = await fetch(apiUrl(path, params));
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    throw new Error(`${path}: ${res.status} ${body.error ?? res.statusText}`);
  }
  return (await res.json()) as T;
}
