/**
 * Environment parsing with one clear error listing every bad or missing value.
 * A service declares its whole config in one object at start-up. Each field also
 * says what it is for, so that README's environment tables are printed from these
 * definitions (scripts/config-table.mjs) instead of written beside them.
 */

type Env = Record<string, string | undefined>;

/** What a definition says about its field. Markdown: it lands in README's tables as written. */
export interface FieldDoc {
  doc: string;
  /** Stands in for a default that differs per machine (a host name, a path) or is not worth printing. */
  shownDefault?: string;
}

/** A field as README's tables show it; markdown. */
export interface FieldInfo {
  env: string;
  /** `required` when there is no default. */
  default: string;
  /** What is accepted, where it is more than any text: bounds, choices, a list. */
  values: string;
  doc: string;
}

interface Field<T> {
  readonly info: FieldInfo;
  read(env: Env, problems: string[]): T;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const code = (text: string) => (text === '' ? 'empty' : `\`${text}\``);

function info(env: string, fallback: string | undefined, values: string, { doc, shownDefault }: FieldDoc): FieldInfo {
  return { env, default: shownDefault ?? (fallback === undefined ? 'required' : code(fallback)), values, doc };
}

export function str(name: string, fallback: string | undefined, about: FieldDoc): Field<string> {
  return {
    info: info(name, fallback, '', about),
    read(env, problems) {
      const value = env[name];
      if (value !== undefined && value !== '') return value;
      if (fallback !== undefined) return fallback;
      problems.push(`${name} is required`);
      return '';
    },
  };
}

function range({ min, max }: { min?: number; max?: number }): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return `, at least ${min}`;
  return max === undefined ? '' : `, at most ${max}`;
}

export function int(name: string, fallback: number, about: FieldDoc & { min?: number; max?: number }): Field<number> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = about;
  return {
    info: info(name, String(fallback), `integer${range(about)}`, about),
    read(env, problems) {
      const raw = env[name];
      if (raw === undefined || raw === '') return fallback;
      const value = Number(raw);
      if (!Number.isInteger(value) || value < min || value > max) {
        problems.push(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
        return fallback;
      }
      return value;
    },
  };
}

export function bool(name: string, fallback: boolean, about: FieldDoc): Field<boolean> {
  return {
    info: info(name, String(fallback), '`true` or `false`', about),
    read(env, problems) {
      const raw = env[name]?.toLowerCase();
      if (raw === undefined || raw === '') return fallback;
      if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
      if (['0', 'false', 'no', 'off'].includes(raw)) return false;
      problems.push(`${name} must be true or false, got ${JSON.stringify(env[name])}`);
      return fallback;
    },
  };
}

export function list(name: string, fallback: string[], about: FieldDoc): Field<string[]> {
  return {
    info: info(name, fallback.join(','), 'comma-separated', about),
    read(env) {
      const raw = env[name];
      if (raw === undefined || raw.trim() === '') return fallback;
      return raw
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean);
    },
  };
}

export function oneOf<const T extends string>(name: string, choices: readonly T[], fallback: T, about: FieldDoc): Field<T> {
  return {
    info: info(name, fallback, choices.map(code).join(', '), about),
    read(env, problems) {
      const raw = env[name];
      if (raw === undefined || raw === '') return fallback;
      if ((choices as readonly string[]).includes(raw)) return raw as T;
      problems.push(`${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
      return fallback;
    },
  };
}

export type ConfigSpec<T> = { [K in keyof T]: Field<T[K]> };

export function readConfig<T>(spec: ConfigSpec<T>, env: Env = process.env): T {
  const problems: string[] = [];
  const config = {} as T;
  for (const key of Object.keys(spec) as Array<keyof T>) config[key] = spec[key].read(env, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
