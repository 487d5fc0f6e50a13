import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse } from "yaml";

/** Every `error.code` enum value in the committed API schema (the API's error shape). */
export function schemaErrorCodes(): Set<string> {
  const path = resolve(__dirname, "../../docs/openapi.yaml");
  const schema = parse(readFileSync(path, "utf8"));
  const codes = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== "object") return;
    const record = node as Record<string, any>;
    const enumValues = record.properties?.error?.properties?.code?.enum;
    if (Array.isArray(enumValues)) enumValues.forEach((c: string) => codes.add(c));
    Object.values(record).forEach(walk);
  };
  walk(schema);
  return codes;
}
