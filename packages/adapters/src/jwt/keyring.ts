import { createSecretKey, type KeyObject } from "node:crypto";

/**
 * Which HS256 secrets verify and sign, per tenant. A tenant is a token issuer: a token's `iss` claim
 * names it, and a token without `iss` belongs to the default tenant.
 */
export interface TokenSecrets {
  /** The default tenant's secret, for tokens without `iss`. Absent: such tokens are refused, and none is issued. */
  readonly secret?: string | undefined;
  /**
   * Secrets by issuer. Every secret of an issuer verifies and the first one signs, so a tenant rotates
   * by putting its new secret first and dropping the old one once the tokens it signed have expired.
   */
  readonly issuers?: ReadonlyMap<string, readonly string[]> | undefined;
}

export interface Keyring {
  /** The keys a token of `iss` (undefined: the default tenant) may be signed with; undefined for an unknown issuer. */
  readonly verifying: (iss: string | undefined) => readonly KeyObject[] | undefined;
  /** The key tokens of `iss` are signed with; undefined for an unknown issuer. */
  readonly signing: (iss: string | undefined) => KeyObject | undefined;
}

const describeTenant = (iss: string | undefined): string => (iss === undefined ? "the default tenant" : `issuer ${JSON.stringify(iss)}`);

/** Checks the secrets once and imports them as keys. Errors name tenants, never secrets. */
export const keyring = ({ secret, issuers }: TokenSecrets): Keyring => {
  // Tenants are isolated by their secrets: one shared by two tenants would let either sign for the other.
  const owners = new Map<string, string | undefined>();
  const importAll = (iss: string | undefined, secrets: readonly string[]): KeyObject[] => {
    if (secrets.length === 0) throw new Error(`token secrets: ${describeTenant(iss)} has no secret`);
    const unique = [...new Set(secrets)];
    for (const s of unique) {
      if (s.length === 0) throw new Error(`token secrets: ${describeTenant(iss)} has an empty secret`);
      if (owners.has(s)) throw new Error(`token secrets: ${describeTenant(owners.get(s))} and ${describeTenant(iss)} share a secret; each tenant needs its own`);
      owners.set(s, iss);
    }
    return unique.map((s) => createSecretKey(Buffer.from(s, "utf8")));
  };

  const fallback = secret === undefined ? undefined : importAll(undefined, [secret]);
  const byIssuer = new Map<string, KeyObject[]>();
  for (const [iss, secrets] of issuers ?? []) {
    if (iss.length === 0) throw new Error("token secrets: an issuer must not be empty (tokens without iss use the default secret)");
    byIssuer.set(iss, importAll(iss, secrets));
  }
  if (!fallback && byIssuer.size === 0) throw new Error("token secrets: give a default secret or at least one issuer's");

  const verifying = (iss: string | undefined) => (iss === undefined ? fallback : byIssuer.get(iss));
  return { verifying, signing: (iss) => verifying(iss)?.[0] };
};
