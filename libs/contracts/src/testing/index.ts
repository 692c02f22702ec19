import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { ZodTypeAny } from 'zod';
import { Envelope } from '../envelope';
import { eventContracts, EventType } from '../events';
import { JsonSchema } from '../json-schema';

/** libs/contracts: its golden samples (`samples/<Type>.v<N>.json`) and frozen schemas (`schemas/<Type>.v<N>.json`). */
export const CONTRACTS_DIR = join(__dirname, '..', '..');
export const SAMPLES_DIR = join(CONTRACTS_DIR, 'samples');
export const FROZEN_SCHEMAS_DIR = join(CONTRACTS_DIR, 'schemas');

const FILE = /^([A-Za-z]+)\.v(\d+)\.json$/;

export type Sample = { type: string; version: number; file: string; envelope: Envelope };

/** Every golden sample: one envelope per event type and version, frozen once that version is published. */
export function goldenSamples(): Sample[] {
  return readdirSync(SAMPLES_DIR)
    .filter((file) => FILE.test(file))
    .sort()
    .map((file) => {
      const [, type, version] = FILE.exec(file) as RegExpExecArray;
      return { type, version: Number(version), file, envelope: JSON.parse(readFileSync(join(SAMPLES_DIR, file), 'utf8')) as Envelope };
    });
}

/** The samples of the given types, every version of each. */
export const samplesOf = (types: readonly string[]): Sample[] => goldenSamples().filter((sample) => types.includes(sample.type));

/** The JSON Schema a version of a type was published with: what readers built for it check. */
export function frozenSchema(type: string, version: number): JsonSchema | undefined {
  try {
    return JSON.parse(readFileSync(join(FROZEN_SCHEMAS_DIR, `${type}.v${version}.json`), 'utf8')) as JsonSchema;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The schema with every object closed: a field it does not declare is an error. */
export function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, closed(value)]));
  if ('properties' in out) out.additionalProperties = false;
  return out;
}

const ajv = addFormats(new Ajv({ allErrors: true, strict: false }));
const validators = new Map<string, ValidateFunction>();

function validator(key: string, schema: JsonSchema): ValidateFunction {
  let validate = validators.get(key);
  if (!validate) {
    validate = ajv.compile(schema);
    validators.set(key, validate);
  }
  return validate;
}

/** Errors of `data` against a JSON Schema, one line each; empty when valid. */
export function jsonSchemaErrors(key: string, schema: JsonSchema, data: unknown): string[] {
  const validate = validator(key, schema);
  if (validate(data)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(data)'} ${e.message}${e.params && 'additionalProperty' in e.params ? `: ${String(e.params.additionalProperty)}` : ''}`);
}

export type ProducedEvent = { topic: string; type: string; schemaVersion?: number; data: unknown };

/**
 * What is wrong with an event a producer built, one line each; empty when it keeps its contract:
 * a known type on its contract's topic, at the current version, valid against the current schema, and
 * valid against the frozen schema of that version with every object closed — so a field the contract
 * does not declare, or a change an older reader would refuse, is reported.
 */
export function producedEventProblems(event: ProducedEvent): string[] {
  if (!Object.hasOwn(eventContracts, event.type)) return [`${event.type} has no contract in libs/contracts`];
  const contract = eventContracts[event.type as EventType];
  const problems: string[] = [];
  if (event.topic !== contract.topic) problems.push(`${event.type} published on ${event.topic}, its contract says ${contract.topic}`);
  const version = event.schemaVersion ?? contract.version;
  if (version !== contract.version) problems.push(`${event.type} written as version ${version}, the contract's current version is ${contract.version}`);
  // What travels is JSON: dates become strings, undefined fields vanish.
  const data: unknown = JSON.parse(JSON.stringify(event.data));
  const parsed = contract.schema.safeParse(data);
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `${i.path.join('.') || '(data)'}: ${i.message}`));
  const frozen = frozenSchema(event.type, version);
  if (!frozen) problems.push(`${event.type} version ${version} has no frozen schema in libs/contracts/schemas`);
  else problems.push(...jsonSchemaErrors(`closed:${event.type}.v${version}`, closed(frozen) as JsonSchema, data).map((line) => `frozen ${event.type}.v${version}: ${line}`));
  return problems;
}

/** Fails (with every problem listed) unless the produced event keeps its contract. */
export function expectKeepsContract(event: ProducedEvent): void {
  const problems = producedEventProblems(event);
  if (problems.length > 0) throw new Error(`${event.type} breaks its contract:\n  ${problems.join('\n  ')}`);
}

/**
 * What separates an HTTP reply from its contract schema (@booking/contracts' HTTP schemas): zod's
 * issues, and every field the schema does not declare (zod would drop it, so the gateway would not
 * pass it on). Empty when the reply is exactly what the contract promises.
 */
export function httpContractProblems(schema: ZodTypeAny, reply: unknown): string[] {
  const parsed = schema.safeParse(reply);
  if (!parsed.success) return parsed.error.issues.map((issue) => `${issue.path.join('.') || '(reply)'}: ${issue.message}`);
  const problems: string[] = [];
  const compare = (given: unknown, kept: unknown, at: string): void => {
    if (Array.isArray(given) && Array.isArray(kept)) {
      given.forEach((item, index) => compare(item, kept[index], `${at}[${index}]`));
    } else if (given && kept && typeof given === 'object' && typeof kept === 'object') {
      for (const [key, value] of Object.entries(given)) {
        if (!(key in kept)) problems.push(`${at ? `${at}.` : ''}${key}: not in the contract`);
        else compare(value, (kept as Record<string, unknown>)[key], at ? `${at}.${key}` : key);
      }
    }
  };
  compare(reply, parsed.data, '');
  return problems;
}
