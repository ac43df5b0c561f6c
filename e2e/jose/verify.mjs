// Verifies a token the way a backend using the `jose` library would: against
// the gateway's published JWK Set, with jose's own checks (signature, alg
// matching the JWK, exp/nbf, issuer, audience).
//
//   node verify.mjs <jwks-url> <token> <issuer> [audience]
//
// Prints the verified payload as one line of JSON and exits 0, or prints the
// reason on stderr and exits 1 (2 for a usage error). Part of tokengate's
// end-to-end suite (e2e/keys_test.go); the library is pinned in package.json
// and package-lock.json, installed by `scripts/install-tools.sh jose`.
import { createRemoteJWKSet, jwtVerify } from "jose";

const [url, token, issuer, audience] = process.argv.slice(2);
if (!url || !token || !issuer) {
  console.error("usage: node verify.mjs <jwks-url> <token> <issuer> [audience]");
  process.exit(2);
}

const options = { issuer };
if (audience) {
  options.audience = audience;
}

try {
  const jwks = createRemoteJWKSet(new URL(url));
  const { payload, protectedHeader } = await jwtVerify(token, jwks, options);
  console.log(JSON.stringify({ header: protectedHeader, payload }));
} catch (err) {
  console.error(`jose rejected the token: ${err.code ?? err.name}: ${err.message}`);
  process.exit(1);
}
