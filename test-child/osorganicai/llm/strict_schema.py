"""OpenAI's strict JSON Schema subset (Structured Outputs), made from a pydantic model's JSON Schema.

Strict mode (`response_format: {"type": "json_schema", "json_schema": {"name", "schema", "strict": true}}`)
accepts part of JSON Schema only (OpenAI's Structured Outputs guide, "Supported schemas"):
- the root is an object, not an `anyOf`; objects nest at most 10 deep;
- every object lists all its properties in `required` and has `additionalProperties: false`, so a
  property the pydantic model leaves optional becomes nullable; `drop_optional_nulls` removes the null
  the model sends for it from the answer, and pydantic then applies the default;
- `$defs` and `$ref` to them stay (recursion included); a `$ref` with keywords beside it is inlined;
- `anyOf` is supported (a `oneOf` becomes `anyOf`, a single-member `allOf` is merged); `allOf` with
  more members, `not`, `if`/`then`/`else` and `patternProperties` are not;
- besides `type`, `enum`, `const`, `title` and `description`, only these keywords: strings `pattern`,
  `format` (OpenAI's list of formats); numbers `multipleOf`, `minimum`, `maximum`, `exclusiveMinimum`,
  `exclusiveMaximum`; arrays `minItems`, `maxItems`. Others (`minLength`, `maxLength`, `default`,
  `uniqueItems`...) are dropped, named in the description as a hint; pydantic still enforces them.

A schema that cannot be closed (a dict of arbitrary keys, a value of any type, a tuple) raises
`StrictSchemaError` naming where; the caller then asks without strict mode.
"""

from __future__ import annotations

from typing import Any

STRUCTURE = frozenset({"type", "properties", "required", "additionalProperties", "items", "anyOf", "enum", "const"})
ANNOTATIONS = frozenset({"title", "description"})
CONSTRAINTS = frozenset(
    {"pattern", "multipleOf", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems"}
)
FORMATS = frozenset({"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"})
UNSUPPORTED = ("not", "if", "then", "else", "patternProperties", "prefixItems", "dependentSchemas", "dependentRequired")
SILENTLY_DROPPED = frozenset({"default", "examples", "discriminator", "$schema", "$id", "$comment"})
MAX_OBJECT_DEPTH = 10
HINTS = {"minLength": "at least {value} characters", "maxLength": "at most {value} characters"}


class StrictSchemaError(ValueError):
    """The schema has a part strict mode cannot express."""

    def __init__(self, where: str, reason: str) -> None:
        self.where = where or "the root"
        super().__init__(f"strict JSON Schema: {self.where}: {reason}")


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A new schema in strict mode's subset for the same data; `schema` is left as it was."""
    if not isinstance(schema, dict):
        raise StrictSchemaError("", "the schema is not a JSON object")
    definitions = _definitions(schema)
    body = {key: value for key, value in schema.items() if key not in {"$defs", "definitions"}}
    if "$ref" in body:  # a recursive model's schema is a $ref to its own definition: the root must be the object
        body = {**_resolve(schema, body.pop("$ref"), ""), **body}
    converter = _Converter(schema)
    result = converter.convert(body, "", 0)
    if result.get("type") != "object":
        raise StrictSchemaError("", "the root must be an object schema (`type: object`)")
    if definitions:
        result["$defs"] = {name: converter.convert(value, f"$defs.{name}", 1) for name, value in definitions.items()}
    return result


def drop_optional_nulls(value: Any, schema: dict[str, Any]) -> Any:
    """`value` without the nulls sent for properties `schema` (the original one) does not require, so that
    validation applies their defaults; nulls for required or explicitly nullable ones stay."""
    return _without_nulls(value, schema, schema, 0)


class _Converter:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root

    def convert(self, node: Any, where: str, depth: int) -> dict[str, Any]:
        if not isinstance(node, dict):
            raise StrictSchemaError(where, "a schema must be a JSON object")
        node = self._flatten(node, where)
        if "$ref" in node:
            return {"$ref": node["$ref"]}
        for keyword in UNSUPPORTED:
            if keyword in node:
                raise StrictSchemaError(where, f"`{keyword}` is not supported in strict mode")
        out: dict[str, Any] = {}
        hints: list[str] = []
        for key, value in node.items():
            if key in ANNOTATIONS or key in STRUCTURE:
                continue
            if key in CONSTRAINTS or (key == "format" and value in FORMATS):
                out[key] = value
            elif key not in SILENTLY_DROPPED and isinstance(value, str | int | float | bool):
                hints.append(HINTS.get(key, "{key}: {value}").format(key=key, value=value))
        for key in ("title", "description", "enum", "const"):
            if key in node:
                out[key] = node[key]
        if hints:
            described = str(node.get("description") or "").strip()
            out["description"] = (described + " " if described else "") + f"({', '.join(hints)})"
        if "anyOf" in node:
            variants = node["anyOf"]
            if not isinstance(variants, list) or not variants:
                raise StrictSchemaError(where, "`anyOf` must be a non-empty list")
            out["anyOf"] = [self.convert(variant, f"{where}.anyOf[{index}]", depth) for index, variant in enumerate(variants)]
        if "type" in node:
            out["type"] = node["type"]
        if not {"type", "anyOf", "enum", "const"} & out.keys():
            raise StrictSchemaError(where, "a value of any type cannot be strict: give it a type")
        types = out.get("type")
        kinds = set(types) if isinstance(types, list) else {types}
        if "object" in kinds or "properties" in node:
            self._object(node, out, where, depth + 1)
        if "array" in kinds:
            items = node.get("items")
            if not isinstance(items, dict):
                raise StrictSchemaError(where, "an array needs an `items` schema")
            out["items"] = self.convert(items, f"{where}[]", depth)
        return out

    def _flatten(self, node: dict[str, Any], where: str) -> dict[str, Any]:
        """One-member `allOf` merged, `oneOf` as `anyOf`, a `$ref` with siblings inlined."""
        node = dict(node)
        if "allOf" in node:
            members = node.pop("allOf")
            if not isinstance(members, list) or len(members) != 1 or not isinstance(members[0], dict):
                raise StrictSchemaError(where, "`allOf` with more than one member is not supported in strict mode")
            node = {**members[0], **node}
        if "oneOf" in node:
            node["anyOf"] = node.pop("oneOf")
        ref = node.get("$ref")
        if ref is not None and len(node) > 1:
            resolved = _resolve(self.root, ref, where)
            rest = {key: value for key, value in node.items() if key != "$ref"}
            return self._flatten({**resolved, **rest}, where)
        if ref is not None:
            _resolve(self.root, ref, where)
        return node

    def _object(self, node: dict[str, Any], out: dict[str, Any], where: str, depth: int) -> None:
        if depth > MAX_OBJECT_DEPTH:
            raise StrictSchemaError(where, f"objects nest more than {MAX_OBJECT_DEPTH} deep")
        extra = node.get("additionalProperties", False)
        if extra is not False:
            raise StrictSchemaError(where, "an object with arbitrary keys (`additionalProperties`) cannot be strict")
        properties = node.get("properties")
        if properties is None:
            properties = {}
            if "additionalProperties" not in node:
                raise StrictSchemaError(where, "an object without `properties` accepts any keys and cannot be strict")
        if not isinstance(properties, dict):
            raise StrictSchemaError(where, "`properties` must be an object")
        required = set(node.get("required") or ())
        converted = {}
        for name, schema in properties.items():
            child = self.convert(schema, f"{where}.{name}" if where else name, depth)
            converted[name] = child if name in required else _nullable(child)
        out["properties"] = converted
        out["required"] = list(converted)
        out["additionalProperties"] = False


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` that also accepts null."""
    if _accepts_null(schema):
        return schema
    types = schema.get("type")
    if isinstance(types, str) and "const" not in schema:
        nullable = {**schema, "type": [types, "null"]}
        if "enum" in schema:
            nullable["enum"] = [*schema["enum"], None]
        return nullable
    if isinstance(types, list) and "const" not in schema and "enum" not in schema:
        return {**schema, "type": [*types, "null"]}
    if "anyOf" in schema and set(schema) <= {"anyOf", "title", "description"}:
        return {**schema, "anyOf": [*schema["anyOf"], {"type": "null"}]}
    annotations = {key: schema[key] for key in ("title", "description") if key in schema}
    variant = {key: value for key, value in schema.items() if key not in annotations}
    return {**annotations, "anyOf": [variant, {"type": "null"}]}


def _accepts_null(schema: dict[str, Any]) -> bool:
    types = schema.get("type")
    if types == "null" or (isinstance(types, list) and "null" in types):
        return True
    return any(isinstance(variant, dict) and variant.get("type") == "null" for variant in schema.get("anyOf") or ())


def _definitions(schema: dict[str, Any]) -> dict[str, Any]:
    definitions = {**(schema.get("definitions") or {}), **(schema.get("$defs") or {})}
    if not all(isinstance(value, dict) for value in definitions.values()):
        raise StrictSchemaError("$defs", "every definition must be a JSON object")
    return definitions


def _resolve(root: dict[str, Any], ref: Any, where: str) -> dict[str, Any]:
    if not isinstance(ref, str) or not ref.startswith("#"):
        raise StrictSchemaError(where, f"only local `$ref`s (#/$defs/...) are supported, not {ref!r}")
    node: Any = root
    for part in [part for part in ref[1:].split("/") if part]:
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        raise StrictSchemaError(where, f"`$ref` {ref!r} points to nothing in the schema")
    return node


def _without_nulls(value: Any, schema: Any, root: dict[str, Any], depth: int) -> Any:
    if not isinstance(schema, dict) or depth > 50:
        return value
    if isinstance(schema.get("$ref"), str):
        try:
            schema = {**_resolve(root, schema["$ref"], ""), **{k: v for k, v in schema.items() if k != "$ref"}}
        except StrictSchemaError:
            return value
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        properties, required = schema["properties"], set(schema.get("required") or ())
        return {
            key: _without_nulls(item, properties.get(key), root, depth + 1)
            for key, item in value.items()
            if not (item is None and key in properties and key not in required and not _accepts_null(properties[key]))
        }
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_without_nulls(item, schema["items"], root, depth + 1) for item in value]
    for key in ("anyOf", "oneOf", "allOf"):
        for variant in schema.get(key) or ():
            if isinstance(variant, dict) and _shape_fits(value, _shape(variant, root)):
                return _without_nulls(value, variant, root, depth + 1)
    return value


def _shape(schema: dict[str, Any], root: dict[str, Any]) -> str:
    if isinstance(schema.get("$ref"), str):
        try:
            schema = _resolve(root, schema["$ref"], "")
        except StrictSchemaError:
            return ""
    if "properties" in schema or schema.get("type") == "object":
        return "object"
    return "array" if schema.get("type") == "array" else ""


def _shape_fits(value: Any, shape: str) -> bool:
    return (shape == "object" and isinstance(value, dict)) or (shape == "array" and isinstance(value, list))
