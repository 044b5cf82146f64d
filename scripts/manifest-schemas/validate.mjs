// Validates manifests against their schemas, offline. Reads a JSON array
// of manifests from the file named on the command line (YAML already
// turned into JSON by the caller; a SecretProviderClass's `objects`
// parameter given parsed, under `objectsParsed`). Prints one line per
// manifest and exits 1 if any is invalid.
import { readFileSync } from "node:fs";
import { ExternalSecret } from "@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret";
import Ajv from "ajv";

const here = new URL(".", import.meta.url);
const ajv = new Ajv({ allErrors: true, strict: false });
const spc = ajv.compile(JSON.parse(readFileSync(new URL("secretproviderclass.schema.json", here))));
const objects = ajv.compile(JSON.parse(readFileSync(new URL("aws-objects.schema.json", here))));

let failed = 0;
for (const [i, m] of JSON.parse(readFileSync(process.argv[2], "utf8")).entries()) {
  const problems = [];
  if (m.kind === "ExternalSecret" && m.apiVersion === "external-secrets.io/v1") {
    try {
      new ExternalSecret(m).validate();
    } catch (e) {
      problems.push(String(e.message));
    }
  } else if (m.kind === "SecretProviderClass") {
    const { objectsParsed, ...manifest } = m;
    if (!spc(manifest)) problems.push(ajv.errorsText(spc.errors));
    if (!objects(objectsParsed)) problems.push("objects: " + ajv.errorsText(objects.errors));
  } else {
    problems.push(`no schema for ${m.apiVersion} ${m.kind}`);
  }
  if (problems.length) failed++;
  console.log(`${i} ${m.kind} ${problems.length ? "INVALID: " + problems.join("; ") : "valid"}`);
}
process.exit(failed ? 1 : 0);
