export { type AuthFailureReason, authFailure, authFailureReason } from "./auth-error.ts";
export {
  type CredentialRequest,
  type CredentialSource,
  type Credentials,
  extractCredentials,
} from "./credentials.ts";
export { parseDuration } from "./duration.ts";
export { createIssuer, type IssueOptions, type Issuer, type IssuerOptions } from "./issuer.ts";
export { type Algorithm, asymmetricAlgorithms, hmacAlgorithms } from "./keys.ts";
export {
  type Admission,
  createLoginGuard,
  type Lockout,
  type LoginAttempt,
  type LoginGuard,
  type LoginGuardOptions,
  type LoginSubject,
} from "./login-guard.ts";
export {
  type AuthEnv,
  type AuthVariables,
  authErrorHeaders,
  type Challenge,
  challengeHeaders,
  type JwtAuthOptions,
  jwtAuth,
  type Principal,
  unauthorizedResponse,
} from "./middleware.ts";
export {
  type Action,
  can,
  formatScope,
  parseScope,
  parseScopes,
  type Scope,
  scopesFromClaims,
} from "./permissions.ts";
export {
  constantTimeEqual,
  defaultPasswordIterations,
  generateSalt,
  hashPassword,
  type PasswordHash,
  verifyPassword,
} from "./secrets.ts";
export { type Claims, createVerifier, type Verifier, type VerifierOptions } from "./verifier.ts";
