/**
 * Which peers may tell the gateway a client's address (X-Forwarded-For), so the
 * per-IP stream cap counts clients and not the ingress. Only the proxies named in
 * TRUSTED_PROXIES are believed: addresses, CIDR ranges or proxy-addr's keywords
 * (`loopback`, `linklocal`, `uniquelocal`); `none` believes no one. Behind a proxy
 * that is not trusted every client shares the proxy's address; trusting a peer
 * that is not a proxy lets clients pick their own address.
 */
export function trustProxyOption(trustedProxies: readonly string[]): string[] | false {
  if (trustedProxies.length === 0 || (trustedProxies.length === 1 && trustedProxies[0] === 'none')) return false;
  return [...trustedProxies];
}
