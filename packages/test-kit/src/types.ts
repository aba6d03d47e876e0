/** Coordinates of the S3 server under test (Ceph RGW), as `s3Env()` returns them. */
export interface S3Env {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** A second user of the same server, for cross-tenant tests. */
  second: { accessKeyId: string; secretAccessKey: string };
}

/** Coordinates of the private slapd, seeded with the fixture in `ldapFixture`. */
export interface LdapEnv {
  /** `ldap://127.0.0.1:P` (StartTLS capable). */
  url: string;
  /** `ldaps://127.0.0.1:P+1`. */
  ldapsUrl: string;
  /** Path of the self-signed server certificate (PEM), SAN IP:127.0.0.1 and DNS:localhost. */
  caPath: string;
  /** The same certificate, PEM text, ready for `tlsOptions: { ca: [ca] }`. */
  ca: string;
  baseDn: string;
  adminDn: string;
  adminPassword: string;
}

/** Coordinates of the shared docker-registry (distribution 2.8, no auth, delete enabled). */
export interface RegistryEnv {
  /** `http://127.0.0.1:P` */
  url: string;
  /** `127.0.0.1:P`, what skopeo and image references want. */
  host: string;
}

/** Coordinates of the Azure Blob service under test (Azurite, account `devstoreaccount1`). */
export interface AzureEnv {
  /** Blob service URL, `http://127.0.0.1:P/devstoreaccount1`. */
  endpoint: string;
  account: string;
  /** The account's shared key (Azurite's published development key). */
  key: string;
}

/** What `infra/test/global-setup.ts` provides to every project as `wharfServices`. */
export interface WharfServices {
  s3: S3Env;
  /**
   * OpenStack Swift's s3api: a second S3 implementation, without conditional writes or browser POST
   * (real-services.md §1.2). Its users are `test:tester` and `test2:tester2`.
   */
  swift: S3Env;
  ldap: LdapEnv;
  registry: RegistryEnv;
  azure: AzureEnv;
  /** Per service, whether it was started for this run or reused (dev services, env). */
  origin: {
    s3: ServiceOrigin;
    swift: ServiceOrigin;
    ldap: ServiceOrigin;
    registry: ServiceOrigin;
    azure: ServiceOrigin;
  };
  /** Seconds each started service took to become ready (absent when reused). */
  startSeconds: { s3?: number; swift?: number; ldap?: number; registry?: number; azure?: number };
}

export type ServiceOrigin = "started" | "env" | "dev-services";

declare module "vitest" {
  export interface ProvidedContext {
    wharfServices: WharfServices;
  }
}
