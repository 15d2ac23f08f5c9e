import type { StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import * as z from 'zod';

type Json = Record<string, unknown>;

/** Keywords that describe a value as a whole and stay beside `anyOf`; every other keyword constrains one type. */
const ANNOTATIONS = new Set([
  'description',
  'title',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
]);

/**
 * Rewrites `type: [T, "null"]` (zod's spelling of `.nullable()` on primitives) as `anyOf` branches with one
 * `type` each. Both are valid JSON Schema, but clients that map tool schemas onto a single-`type` dialect (the
 * OpenAPI subset some model providers use for function declarations) reject or weaken the array form; the MCP
 * Inspector reports it as a schema-portability warning. Returns a new object; the input is not modified.
 */
export function portableJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(portableJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const src = node as Json;
  const out: Json = {};
  for (const [key, value] of Object.entries(src)) {
    if (key === 'properties' || key === '$defs' || key === 'definitions' || key === 'patternProperties') {
      out[key] = Object.fromEntries(
        Object.entries((value ?? {}) as Json).map(([k, v]) => [k, portableJsonSchema(v)]),
      );
    } else if (
      key === 'enum' ||
      key === 'const' ||
      key === 'default' ||
      key === 'examples' ||
      key === 'required'
    ) {
      out[key] = value;
    } else {
      out[key] = portableJsonSchema(value);
    }
  }
  const type = out['type'];
  if (!Array.isArray(type) || type.length < 2) return out;
  const annotations: Json = {};
  const constraints: Json = {};
  for (const [key, value] of Object.entries(out)) {
    if (key === 'type') continue;
    (ANNOTATIONS.has(key) ? annotations : constraints)[key] = value;
  }
  const branches = (type as string[]).map((t) => {
    if (t === 'null') return { type: 'null' };
    const branch: Json = { type: t, ...constraints };
    if (Array.isArray(branch['enum']))
      branch['enum'] = (branch['enum'] as unknown[]).filter((v) => v !== null);
    return branch;
  });
  return { ...annotations, anyOf: branches };
}

/**
 * A zod schema as the MCP SDK consumes schemas (Standard Schema with its JSON Schema): validation is zod's own,
 * unchanged; the JSON Schema advertised in `tools/list` is zod's conversion made portable (above), computed once
 * per direction, when first asked for.
 * This is the public Standard JSON Schema interface the SDK documents for any schema library, not a patch of
 * zod's object.
 */
export function mcpSchema<T extends z.ZodType>(
  schema: T,
  options: {
    saysUnknownKeysOnce?: boolean;
    /** This conversion made ahead of time (see tool-schemas.json); used instead of converting again. */
    converted?: { input?: Json | undefined; output?: Json | undefined } | undefined;
  } = {},
): StandardSchemaWithJSON<z.input<T>, z.output<T>> {
  const convert = (io: 'input' | 'output') => {
    const json = z.toJSONSchema(schema, { io, target: 'draft-2020-12' }) as Json;
    // `$schema` names the draft on every tool; the protocol fixes the draft, and models are shown the rest.
    delete json['$schema'];
    // Tool arguments: validation still refuses unknown keys (the zod object is strict); the server instructions
    // say so once, instead of a top-level `additionalProperties: false` repeated to the model on every tool.
    if (options.saysUnknownKeysOnce && io === 'input') delete json['additionalProperties'];
    return portableJsonSchema(json) as Json;
  };
  // Each direction is converted on first use: a tool's input schema is only ever asked for its input side and
  // its output schema for its output side, so converting both up front doubled the start-up cost (measured by
  // `npm run bench` and `--cpu-prof`).
  const json: { input?: Json | undefined; output?: Json | undefined } = { ...options.converted };
  const standard = schema['~standard'];
  return {
    '~standard': {
      version: 1,
      vendor: 'divio-mcp',
      validate: (value: unknown) => standard.validate(value),
      jsonSchema: {
        input: () => {
          json.input ??= convert('input');
          return json.input;
        },
        output: () => {
          json.output ??= convert('output');
          return json.output;
        },
      },
    },
  } as StandardSchemaWithJSON<z.input<T>, z.output<T>>;
}
