// Types for the TypeScript callers of faketime.mjs (packages/testkit).
/** The path of Debian's libfaketime.so.1 under /usr/lib/<multiarch>/faketime/, if installed. */
export function findLibfaketime(): string | undefined;
/** The path of libfaketime.so.1, apt-installing Debian's package once when it is missing. */
export function ensureLibfaketimeInstalled(): string;
