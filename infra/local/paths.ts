import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of the repository (infra/local/ is two levels down). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Downloads live outside the work tree so clones and CI runs on the same machine share them. */
export const cacheDir = process.env['LIFTSTREAM_CACHE'] ?? path.join(os.homedir(), '.cache', 'liftstream');

export const KAFKA_VERSION = '3.9.1';
export const APICURIO_VERSION = '3.3.3';
export const kafkaHome = path.join(cacheDir, `kafka-${KAFKA_VERSION}`);
export const apicurioHome = path.join(cacheDir, `apicurio-registry-${APICURIO_VERSION}`);

/** Git-ignored folder for local data, logs and pid files. */
export const localDir = path.join(repoRoot, '.local');

/** Data dirs of `infra/local/cli.ts up` (the local mode's broker and registry). */
export const localKafkaDir = path.join(localDir, 'infra', 'kafka');
export const localRegistryDir = path.join(localDir, 'infra', 'registry');

/** Apicurio 3.3 needs Java 21+; infra/fetch.sh records which runtime it found or installed. */
export const registryJavaFile = path.join(cacheDir, 'registry-java');
