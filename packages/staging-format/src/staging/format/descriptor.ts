import { StagingFormatError } from '../../errors.ts';
import { parseUuid } from './bytes.ts';
import { MAX_VOLUME_SIZE, MIN_VOLUME_SIZE, STAGING_FORMAT_VERSION } from './constants.ts';

/** Any JSON value. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** The import job this location is meant for; drive preparation and the job step read it. */
export interface JobBinding {
  jobName: string;
  // The Azure fields are known once the import job is planned; a backup may be staged before.
  subscriptionId?: string;
  resourceGroup?: string;
  /** ARM id of the target storage account. */
  storageAccountId?: string;
  /** Blob container the volumes are imported into. */
  container?: string;
}

/**
 * How the chunk engine derives its key: never the key itself. The named fields are required, any
 * further parameters (cost factors, cipher) are kept as given.
 */
export interface CryptoParameters {
  /** Key-derivation function, e.g. `"scrypt"`. */
  kdf: string;
  /** Salt, as the chunk engine encodes it (hex or base64). */
  salt: string;
  /** A value that proves a passphrase right without revealing the key (e.g. an HMAC of a constant). */
  keyCheck: string;
  [parameter: string]: JsonValue;
}

/** A committed backup, as the engine's caller commits it. */
export interface SnapshotRecord {
  id: string;
  /** ISO 8601. */
  time: string;
  /** Hex id of the root tree blob. */
  rootId: string;
  parentId?: string;
  stats: { [name: string]: JsonValue };
}

/** A snapshot as the descriptor stores it: with the number of the volume whose catalog holds it. */
export interface StoredSnapshot extends SnapshotRecord {
  volume: number;
}

/** One volume of the location. */
export interface VolumeEntry {
  /** 1-based, consecutive. */
  number: number;
  /** Path relative to the location, `volumes/NNNNNN.vhd`. */
  file: string;
  /** `open` while written (or after a crash, until recovered); `sealed` once a fixed VHD. */
  state: 'open' | 'sealed';
  createdAt: string;
  sealedAt?: string;
  /** File size of a sealed volume. */
  size?: number;
  /** Blob records of a sealed volume. */
  recordCount?: number;
  /** MD5 per non-zero page range of a sealed volume, in a sidecar file. */
  transferHashes?: { file: string; sha256: string };
}

/** The content of `staging.json`. */
export interface StagingDescriptor {
  format: typeof DESCRIPTOR_FORMAT;
  version: number;
  /** UUID of the location; every volume's superblock repeats it. */
  stagingId: string;
  createdAt: string;
  job: JobBinding;
  /** `null` when the backup is not encrypted. */
  crypto: CryptoParameters | null;
  chunker: { [parameter: string]: JsonValue };
  /** Largest volume file in bytes (VHD footer included). */
  maxVolumeSize: number;
  volumes: VolumeEntry[];
  snapshots: StoredSnapshot[];
}

export const DESCRIPTOR_FORMAT = 'offline-seed.staging';
export const DESCRIPTOR_FILE = 'staging.json';
export const VOLUMES_DIR = 'volumes';

/** `volumes/000001.vhd` for volume 1. */
export function volumeFileName(volumeNumber: number): string {
  return `${VOLUMES_DIR}/${String(volumeNumber).padStart(6, '0')}.vhd`;
}

/** `volumes/000001.vhd.ranges.json`: the transfer hashes of sealed volume 1. */
export function transferHashesFileName(volumeNumber: number): string {
  return `${volumeFileName(volumeNumber)}.ranges.json`;
}

/** Field names that would mean a secret is about to be stored. */
const SECRET_NAME = /^(key|masterkey|passphrase|password|secret|sas|token)$/i;

/** Throws a `TypeError` when `value` holds a field whose name says it is a secret. */
export function assertNoSecrets(value: unknown, path: string): void {
  if (value === null || typeof value !== 'object') return;
  for (const [name, child] of Object.entries(value)) {
    if (SECRET_NAME.test(name)) {
      throw new TypeError(
        `"${path}.${name}" looks like a secret; a staging descriptor never stores secrets`,
      );
    }
    assertNoSecrets(child, `${path}.${name}`);
  }
}

type Check = (value: unknown, field: string) => void;

/**
 * Parses `staging.json`. Every field is checked; the error names the first bad one.
 * @throws {StagingFormatError} `STAGING_NOT_A_LOCATION`, `STAGING_BAD_DESCRIPTOR`,
 *   `STAGING_UNSUPPORTED_VERSION`, each with `path`.
 */
export function parseDescriptor(bytes: Uint8Array, path: string): StagingDescriptor {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new StagingFormatError('STAGING_BAD_DESCRIPTOR', `${path} is not valid UTF-8 JSON`, {
      path,
      cause,
    });
  }
  if (!isObject(json) || json.format !== DESCRIPTOR_FORMAT) {
    throw new StagingFormatError(
      'STAGING_NOT_A_LOCATION',
      `${path} is not a staging descriptor (no "format": "${DESCRIPTOR_FORMAT}")`,
      { path },
    );
  }
  if (json.version !== STAGING_FORMAT_VERSION) {
    throw new StagingFormatError(
      'STAGING_UNSUPPORTED_VERSION',
      `${path} has format version ${JSON.stringify(json.version)}; this library reads version ${STAGING_FORMAT_VERSION}`,
      { path },
    );
  }
  const bad = (field: string, expected: string): never => {
    throw new StagingFormatError(
      'STAGING_BAD_DESCRIPTOR',
      `${path}: "${field}" expected ${expected}`,
      {
        path,
      },
    );
  };
  const string: Check = (value, field) => {
    if (typeof value !== 'string' || value === '') bad(field, 'a non-empty string');
  };
  const time: Check = (value, field) => {
    if (typeof value !== 'string' || Number.isNaN(Date.parse(value)))
      bad(field, 'an ISO 8601 time');
  };
  const integer =
    (min: number, max: number): Check =>
    (value, field) => {
      if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
        bad(field, `an integer in [${min}, ${max}]`);
      }
    };
  const object: Check = (value, field) => {
    if (!isObject(value)) bad(field, 'an object');
  };
  const fields = (
    value: unknown,
    field: string,
    checks: Record<string, Check>,
    optional: string[] = [],
  ) => {
    object(value, field);
    for (const [name, check] of Object.entries(checks)) {
      const child = (value as Record<string, unknown>)[name];
      if (child === undefined && optional.includes(name)) continue;
      check(child, `${field}.${name}`);
    }
  };

  fields(json, 'descriptor', {
    stagingId: (value, field) => {
      if (typeof value !== 'string' || parseUuid(value) === undefined)
        bad(field, 'a lower-case UUID');
    },
    createdAt: time,
    job: (value, field) =>
      fields(
        value,
        field,
        {
          jobName: string,
          subscriptionId: string,
          resourceGroup: string,
          storageAccountId: string,
          container: string,
        },
        ['subscriptionId', 'resourceGroup', 'storageAccountId', 'container'],
      ),
    crypto: (value, field) => {
      if (value !== null) fields(value, field, { kdf: string, salt: string, keyCheck: string });
    },
    chunker: object,
    maxVolumeSize: integer(MIN_VOLUME_SIZE, MAX_VOLUME_SIZE),
    volumes: (value, field) => {
      if (!Array.isArray(value)) bad(field, 'an array');
      (value as unknown[]).forEach((volume, i) => {
        const at = `${field}[${i}]`;
        fields(
          volume,
          at,
          {
            number: (n, f) => {
              if (n !== i + 1) bad(f, `${i + 1} (volumes are numbered from 1 without gaps)`);
            },
            file: (file, f) => {
              if (file !== volumeFileName(i + 1)) bad(f, `"${volumeFileName(i + 1)}"`);
            },
            state: (state, f) => {
              if (state !== 'open' && state !== 'sealed') bad(f, '"open" or "sealed"');
            },
            createdAt: time,
            sealedAt: time,
            size: integer(0, MAX_VOLUME_SIZE),
            recordCount: integer(0, Number.MAX_SAFE_INTEGER),
            transferHashes: (hashes, f) => fields(hashes, f, { file: string, sha256: string }),
          },
          ['sealedAt', 'size', 'recordCount', 'transferHashes'],
        );
        const entry = volume as VolumeEntry;
        if (
          entry.state === 'sealed' &&
          (entry.size === undefined || entry.sealedAt === undefined)
        ) {
          bad(at, 'a size and sealedAt once sealed');
        }
        if (entry.state === 'open' && i !== (value as unknown[]).length - 1) {
          bad(`${at}.state`, '"sealed" (only the last volume may be open)');
        }
      });
    },
    snapshots: (value, field) => {
      if (!Array.isArray(value)) bad(field, 'an array');
      const volumeCount = (json as { volumes: unknown[] }).volumes.length;
      for (const [i, snapshot] of (value as unknown[]).entries()) {
        fields(
          snapshot,
          `${field}[${i}]`,
          {
            id: string,
            time,
            rootId: string,
            parentId: string,
            stats: object,
            volume: integer(1, Math.max(volumeCount, 1)),
          },
          ['parentId'],
        );
      }
    },
  });
  return json as unknown as StagingDescriptor;
}

/** `staging.json` bytes: stable key order, two-space indent, trailing newline. */
export function serializeDescriptor(descriptor: StagingDescriptor): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify(descriptor, null, 2)}\n`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
