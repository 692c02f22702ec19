import { ZodFirstPartyTypeKind, ZodTypeAny } from 'zod';

/**
 * A check compiled once from a zod schema, for values that come out of JSON.parse: true means zod
 * would accept the value AND hand back a deep-equal copy of it (no unknown key stripped, no default
 * filled in, no transform applied), so the original JSON text may be sent on as it is.
 *
 * It is deliberately one-sided: false only means "not sure" — the caller then runs zod itself, which
 * strips, or fails with issues. Anything this compiler does not understand (effects, transforms,
 * defaults, lazy schemas, string checks other than the ones below) compiles to `() => false`, so
 * such schemas keep working, through zod. The speed-up comes from not building zod's contexts,
 * issues and output copies for the common case of a reply that matches its schema exactly.
 */
export type ExactCheck = (value: unknown) => boolean;

const never: ExactCheck = () => false;

// zod v3's own patterns, so "true" here never accepts what zod would refuse.
const UUID = /^[0-9a-fA-F]{8}\b-[0-9a-fA-F]{4}\b-[0-9a-fA-F]{4}\b-[0-9a-fA-F]{4}\b-[0-9a-fA-F]{12}$/i;

type Def = { typeName: ZodFirstPartyTypeKind } & Record<string, unknown>;

const cache = new WeakMap<ZodTypeAny, ExactCheck>();

export function compileExactCheck(schema: ZodTypeAny): ExactCheck {
  let check = cache.get(schema);
  if (!check) {
    check = compile(schema);
    cache.set(schema, check);
  }
  return check;
}

function compile(schema: ZodTypeAny): ExactCheck {
  const def = schema._def as Def;
  switch (def.typeName) {
    case ZodFirstPartyTypeKind.ZodString:
      return stringCheck(def.checks as { kind: string; value?: number; regex?: RegExp }[]);
    case ZodFirstPartyTypeKind.ZodNumber:
      return numberCheck(def.checks as { kind: string; value?: number; inclusive?: boolean }[]);
    case ZodFirstPartyTypeKind.ZodBoolean:
      return (v) => typeof v === 'boolean';
    case ZodFirstPartyTypeKind.ZodNull:
      return (v) => v === null;
    case ZodFirstPartyTypeKind.ZodUndefined:
      return (v) => v === undefined;
    case ZodFirstPartyTypeKind.ZodUnknown:
    case ZodFirstPartyTypeKind.ZodAny:
      // zod returns the very value it was given.
      return () => true;
    case ZodFirstPartyTypeKind.ZodLiteral: {
      const literal = def.value;
      return (v) => v === literal;
    }
    case ZodFirstPartyTypeKind.ZodEnum: {
      const values = new Set(def.values as string[]);
      return (v) => typeof v === 'string' && values.has(v);
    }
    case ZodFirstPartyTypeKind.ZodOptional: {
      const inner = compile(def.innerType as ZodTypeAny);
      return (v) => v === undefined || inner(v);
    }
    case ZodFirstPartyTypeKind.ZodNullable: {
      const inner = compile(def.innerType as ZodTypeAny);
      return (v) => v === null || inner(v);
    }
    case ZodFirstPartyTypeKind.ZodArray:
      return arrayCheck(def);
    case ZodFirstPartyTypeKind.ZodTuple: {
      if (def.rest) return never;
      const items = (def.items as ZodTypeAny[]).map(compile);
      return (v) => {
        if (!Array.isArray(v) || v.length !== items.length) return false;
        for (let i = 0; i < items.length; i++) if (!items[i](v[i])) return false;
        return true;
      };
    }
    case ZodFirstPartyTypeKind.ZodRecord:
      return recordCheck(def);
    case ZodFirstPartyTypeKind.ZodObject:
      return objectCheck(schema, def);
    case ZodFirstPartyTypeKind.ZodUnion:
      return unionCheck(def.options as ZodTypeAny[]);
    case ZodFirstPartyTypeKind.ZodDiscriminatedUnion: {
      const key = def.discriminator as string;
      const options = new Map<unknown, ExactCheck>();
      for (const [value, option] of def.optionsMap as Map<unknown, ZodTypeAny>) options.set(value, compile(option));
      return (v) => {
        if (!isPlainObject(v)) return false;
        const option = options.get(v[key]);
        return option !== undefined && option(v);
      };
    }
    default:
      return never;
  }
}

function stringCheck(checks: { kind: string; value?: number; regex?: RegExp }[]): ExactCheck {
  const tests: ((s: string) => boolean)[] = [];
  for (const check of checks) {
    const bound = check.value as number;
    switch (check.kind) {
      case 'min':
        tests.push((s) => s.length >= bound);
        break;
      case 'max':
        tests.push((s) => s.length <= bound);
        break;
      case 'length':
        tests.push((s) => s.length === bound);
        break;
      case 'uuid':
        tests.push((s) => UUID.test(s));
        break;
      case 'regex': {
        const regex = check.regex as RegExp;
        tests.push((s) => {
          regex.lastIndex = 0;
          return regex.test(s);
        });
        break;
      }
      default:
        // trim/toLowerCase change the value; email, url, datetime…: zod's to judge.
        return never;
    }
  }
  if (tests.length === 0) return (v) => typeof v === 'string';
  if (tests.length === 1) {
    const [only] = tests;
    return (v) => typeof v === 'string' && only(v);
  }
  return (v) => typeof v === 'string' && tests.every((test) => test(v));
}

function numberCheck(checks: { kind: string; value?: number; inclusive?: boolean }[]): ExactCheck {
  let integer = false;
  let min = -Infinity;
  let minInclusive = true;
  let max = Infinity;
  let maxInclusive = true;
  for (const check of checks) {
    if (check.kind === 'int') integer = true;
    else if (check.kind === 'min' && (check.value as number) >= min) [min, minInclusive] = [check.value as number, check.inclusive !== false];
    else if (check.kind === 'max' && (check.value as number) <= max) [max, maxInclusive] = [check.value as number, check.inclusive !== false];
    else if (check.kind !== 'finite') return never;
  }
  return (v) =>
    typeof v === 'number' &&
    Number.isFinite(v) &&
    (!integer || Number.isInteger(v)) &&
    (minInclusive ? v >= min : v > min) &&
    (maxInclusive ? v <= max : v < max);
}

function arrayCheck(def: Def): ExactCheck {
  const item = compile(def.type as ZodTypeAny);
  const min = (def.minLength as { value: number } | null)?.value ?? 0;
  const max = (def.maxLength as { value: number } | null)?.value ?? Infinity;
  const exact = (def.exactLength as { value: number } | null)?.value;
  return (v) => {
    if (!Array.isArray(v) || v.length < min || v.length > max || (exact !== undefined && v.length !== exact)) return false;
    for (let i = 0; i < v.length; i++) if (!item(v[i])) return false;
    return true;
  };
}

function recordCheck(def: Def): ExactCheck {
  const key = compile(def.keyType as ZodTypeAny);
  const value = compile(def.valueType as ZodTypeAny);
  return (v) => {
    if (!isPlainObject(v)) return false;
    for (const k of Object.keys(v)) if (k === '__proto__' || !key(k) || !value(v[k])) return false;
    return true;
  };
}

function objectCheck(schema: ZodTypeAny, def: Def): ExactCheck {
  const catchall = def.catchall as ZodTypeAny;
  if (catchall._def.typeName !== ZodFirstPartyTypeKind.ZodNever) return never;
  const shape = (schema as unknown as { shape: Record<string, ZodTypeAny> }).shape;
  const keys = Object.keys(shape);
  const checks = keys.map((k) => compile(shape[k]));
  // "strip" (the default) would drop unknown keys and "strict" refuse them: either way not exact.
  // "passthrough" keeps them as they are.
  const unknownKeysAllowed = def.unknownKeys === 'passthrough';
  return (v) => {
    if (!isPlainObject(v)) return false;
    let present = 0;
    for (let i = 0; i < keys.length; i++) {
      const field = v[keys[i]];
      if (field !== undefined) present++;
      if (!checks[i](field)) return false;
    }
    return unknownKeysAllowed || Object.keys(v).length === present;
  };
}

/**
 * zod answers with the first option that parses. When an earlier option could parse the value only
 * by changing it (stripping keys), its answer would differ from the value, so an exact match of a
 * later option is trusted only behind options that never change what they accept or that surely
 * refuse the value (a different literal tag, another type).
 */
function unionCheck(options: ZodTypeAny[]): ExactCheck {
  const checks = options.map(compile);
  const changesValues = options.map(mayChangeValue);
  const refuses = options.map(compileRefusal);
  return (v) => {
    for (let i = 0; i < checks.length; i++) {
      if (checks[i](v)) return true;
      if (changesValues[i] && !refuses[i](v)) return false;
    }
    return false;
  };
}

/** True only where zod is sure to refuse the value; false means "may accept". */
function compileRefusal(schema: ZodTypeAny): ExactCheck {
  const def = schema._def as Def;
  switch (def.typeName) {
    case ZodFirstPartyTypeKind.ZodLiteral: {
      const literal = def.value;
      return (v) => v !== literal;
    }
    case ZodFirstPartyTypeKind.ZodString:
      return (v) => typeof v !== 'string';
    case ZodFirstPartyTypeKind.ZodNumber:
      return (v) => typeof v !== 'number';
    case ZodFirstPartyTypeKind.ZodBoolean:
      return (v) => typeof v !== 'boolean';
    case ZodFirstPartyTypeKind.ZodNull:
      return (v) => v !== null;
    case ZodFirstPartyTypeKind.ZodObject: {
      const shape = (schema as unknown as { shape: Record<string, ZodTypeAny> }).shape;
      const tags = Object.keys(shape)
        .filter((k) => (shape[k]._def as Def).typeName === ZodFirstPartyTypeKind.ZodLiteral)
        .map((k) => [k, compileRefusal(shape[k])] as const);
      return (v) => !isPlainObject(v) || tags.some(([k, refuses]) => refuses(v[k]));
    }
    default:
      return () => false;
  }
}

function mayChangeValue(schema: ZodTypeAny): boolean {
  const def = schema._def as Def;
  switch (def.typeName) {
    case ZodFirstPartyTypeKind.ZodString:
    case ZodFirstPartyTypeKind.ZodNumber:
    case ZodFirstPartyTypeKind.ZodBoolean:
    case ZodFirstPartyTypeKind.ZodNull:
    case ZodFirstPartyTypeKind.ZodUndefined:
    case ZodFirstPartyTypeKind.ZodLiteral:
    case ZodFirstPartyTypeKind.ZodEnum:
    case ZodFirstPartyTypeKind.ZodUnknown:
    case ZodFirstPartyTypeKind.ZodAny:
      return compile(schema) === never;
    case ZodFirstPartyTypeKind.ZodOptional:
    case ZodFirstPartyTypeKind.ZodNullable:
      return mayChangeValue(def.innerType as ZodTypeAny);
    default:
      return true;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
