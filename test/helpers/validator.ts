import type { JsonSchemaType, JsonSchemaValidator, jsonSchemaValidator } from '@modelcontextprotocol/client';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/client/validators/ajv';

/*
 * The MCP SDK's own JSON Schema validator (Ajv), shared by the test clients in a worker, with its compiled
 * validators kept by schema text. Each client would otherwise compile the same output schemas again, which was
 * the largest single item of the suite's CPU time. Validation is unchanged: a client still checks every
 * structuredContent against the outputSchema it was given.
 */
class SharedValidator implements jsonSchemaValidator {
  readonly #ajv = new AjvJsonSchemaValidator();
  readonly #compiled = new Map<string, JsonSchemaValidator<unknown>>();

  getValidator<T>(schema: JsonSchemaType): JsonSchemaValidator<T> {
    const key = JSON.stringify(schema);
    let validator = this.#compiled.get(key);
    if (!validator) {
      validator = this.#ajv.getValidator<unknown>(schema);
      this.#compiled.set(key, validator);
    }
    return validator as JsonSchemaValidator<T>;
  }
}

export const sharedValidator: jsonSchemaValidator = new SharedValidator();
