/**
 * Environment parsing with one clear error listing every bad or missing value.
 * A service declares its whole config in one object at start-up.
 */

type Env = Record<string, string | undefined>;

interface Field<T> {
  read(env: Env, problems: string[]): T;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export function str(name: string, fallback?: string): Field<string> {
  return {
    read(env, problems) {
      const value = env[name];
      if (value !== undefined && value !== '') return value;
      if (fallback !== undefined) return fallback;
      problems.push(`${name} is required`);
      return '';
    },
  };
}

export function int(name: string, fallback: number, bounds: { min?: number; max?: number } = {}): Field<number> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = bounds;
  return {
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

export function bool(name: string, fallback: boolean): Field<boolean> {
  return {
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

export function list(name: string, fallback: string[]): Field<string[]> {
  return {
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

export function oneOf<const T extends string>(name: string, choices: readonly T[], fallback: T): Field<T> {
  return {
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
