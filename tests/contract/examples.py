"""Every example in the OpenAPI documents must be valid under the schema it illustrates (JSON Schema 2020-12,
as OpenAPI 3.1 uses it), so a client generated from a document and its examples agree. Run by run.sh.

Usage: python3 examples.py <openapi.json>...
"""

import json
import sys

from jsonschema import Draft202012Validator


def examples(doc):
    """(where, example, schema) for each example of a schema or a response body."""
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        for i, example in enumerate(schema.get("examples", []) + ([schema["example"]] if "example" in schema else [])):
            yield f"schema {name} example {i}", example, {"$ref": f"#/components/schemas/{name}"}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for status, response in op.get("responses", {}).items():
                for media, content in response.get("content", {}).items():
                    if "json" not in media or "schema" not in content:
                        continue
                    where = f"{method.upper()} {path} {status} {media}"
                    if "example" in content:
                        yield where, content["example"], content["schema"]
                    for name, example in content.get("examples", {}).items():
                        yield f"{where} example {name}", example["value"], content["schema"]


def main():
    bad = 0
    for file in sys.argv[1:]:
        doc = json.load(open(file))
        checked = 0
        for where, example, schema in examples(doc):
            validator = Draft202012Validator({**schema, "components": doc.get("components", {})})
            for error in validator.iter_errors(example):
                print(f"{file}: {where}: {error.message}", file=sys.stderr)
                bad += 1
            checked += 1
        print(f"contract: {file}: {checked} examples checked against their schemas", file=sys.stderr)
    sys.exit(1 if bad else 0)


main()
