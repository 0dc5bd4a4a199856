#!/usr/bin/env python3
"""Generate docs/api-reference.md (from the gateway's OpenAPI document) and docs/cli.md (from
the `mayfly` and `mayfly-gateway` --help texts), or check that the committed files are current.

Why generated: the OpenAPI document is built from the very types the handlers parse and answer,
and the CLI help from the clap definitions, so pages made from them cannot drift from the code
as long as `--check` runs in scripts/test.sh.

Usage:
  scripts/gen-api-reference.py            write both pages
  scripts/gen-api-reference.py --check    exit 1 (showing a diff) if a committed page differs
  --openapi FILE|URL   read the document from a file or an https:// URL instead of asking
                       mayfly-gateway (an https URL is fetched trusting --ca-cert)
  --bin-dir DIR        where mayfly-gateway and mayfly are (default: <target>/debug)

Without --openapi the script runs `DIR/mayfly-gateway openapi`, which prints the document
GET /openapi.json serves without starting a server (no database, keys or network).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
API_PAGE = REPO_ROOT / "docs" / "api-reference.md"
CLI_PAGE = REPO_ROOT / "docs" / "cli.md"
# Fields every authenticated request takes; described once at the top instead of per operation.
TOKEN_FIELDS = ("token", "uid-token")
# The order of sections; tags the document adds later are appended alphabetically.
TAG_ORDER = ["gateway", "auth", "targets", "dynamic secrets", "items", "credentials",
             "access control", "audit"]


class GenerationError(Exception):
    """Something needed to generate the pages is missing or broken; the message says what."""


# ------------------------------------------------------------------------------------------
# Getting the inputs


def clean_env() -> dict[str, str]:
    """The environment without Mayfly settings: clap prints the current value of each env
    variable in --help, so the user's settings would otherwise leak into the pages."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MAYFLY_", "AWS_")) and k != "DATABASE_URL"}
    env["COLUMNS"] = "100"
    env.pop("NO_COLOR", None)
    return env


def fetch(url: str, ca_file: Path | None) -> bytes:
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    with urllib.request.urlopen(url, context=context, timeout=10) as response:  # noqa: S310
        return response.read()


def openapi_from_binary(gateway_bin: Path) -> dict:
    """The document from `mayfly-gateway openapi`: the same bytes GET /openapi.json serves."""
    if not gateway_bin.is_file():
        raise GenerationError(f"{gateway_bin} does not exist; run `cargo build --bins` first")
    result = subprocess.run([str(gateway_bin), "openapi"], env=clean_env(),
                            capture_output=True, check=False)
    if result.returncode != 0:
        raise GenerationError(f"{gateway_bin} openapi failed ({result.returncode}):\n"
                              f"{result.stderr.decode(errors='replace')}")
    return json.loads(result.stdout)


def load_openapi(source: str | None, gateway_bin: Path, ca_cert: str | None) -> dict:
    if source is None:
        return openapi_from_binary(gateway_bin)
    if source.startswith(("https://", "http://")):
        return json.loads(fetch(source, Path(ca_cert) if ca_cert else None))
    return json.loads(Path(source).read_text())


def help_text(binary: Path, *args: str) -> str:
    result = subprocess.run([str(binary), *args, "--help"], env=clean_env(),
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise GenerationError(f"{binary} {' '.join(args)} --help failed:\n{result.stderr}")
    return result.stdout


# ------------------------------------------------------------------------------------------
# OpenAPI -> Markdown


def ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def anchor(name: str) -> str:
    """GitHub's heading anchor for a schema heading `### Name`."""
    return "schema-" + re.sub(r"[^a-z0-9-]", "", name.lower().replace(".", "-").replace(" ", "-"))


def type_of(schema: dict) -> str:
    """A short human description of a schema's type: `string`, `array of Target`, ..."""
    if "$ref" in schema:
        name = ref_name(schema["$ref"])
        return f"[{name}](#{anchor(name)})"
    for key in ("oneOf", "anyOf"):
        if key in schema:
            parts = [type_of(s) for s in schema[key] if s.get("type") != "null"]
            return " or ".join(dict.fromkeys(parts))
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else " or ".join(kinds)
        if kind == "array":
            return f"array of {type_of(schema.get('items', {}))}"
        return kind or "null"
    if kind == "array":
        return f"array of {type_of(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema and not schema.get("properties"):
        extra = schema["additionalProperties"]
        if isinstance(extra, dict):
            return f"object with {type_of(extra)} values"
    if kind == "string" and schema.get("enum"):
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    if kind == "string" and schema.get("format") == "password":
        return "string (secret)"
    return kind or "any"


def cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def field_rows(schema: dict, skip: tuple[str, ...] = ()) -> list[str]:
    props = schema.get("properties", {})
    required = set(schema.get("required", []))
    rows = []
    for name in sorted(props):
        if name in skip:
            continue
        prop = props[name]
        notes = prop.get("description", "")
        if "default" in prop and prop["default"] is not None:
            notes = f"{notes} Default `{json.dumps(prop['default'])}`.".strip()
        req = "yes" if name in required else ""
        rows.append(f"| `{name}` | {cell(type_of(prop))} | {req} | {cell(notes)} |")
    return rows


def field_table(schema: dict, skip: tuple[str, ...] = (), flag: str = "Always present"
                ) -> list[str]:
    rows = field_rows(schema, skip)
    if not rows:
        return ["No fields."]
    return [f"| Field | Type | {flag} | Description |",
            "|---|---|---|---|", *rows]


def body_schema(part: dict) -> dict | None:
    return part.get("content", {}).get("application/json", {}).get("schema")


def describe_body(schema: dict | None) -> str:
    if schema is None:
        return "none"
    return type_of(schema)


def render_api(doc: dict) -> str:
    schemas = doc.get("components", {}).get("schemas", {})
    info = doc.get("info", {})
    out = [
        "# API reference (generated)",
        "",
        "<!-- Generated by scripts/gen-api-reference.py from the gateway's GET /openapi.json;",
        "     do not edit by hand: change the handler types, then rerun the script. -->",
        "",
        f"{info.get('title', 'API')}, version {info.get('version', '?')}, "
        f"OpenAPI {doc.get('openapi', '?')}. This page lists every operation of the document "
        "served at `GET /openapi.json`; [api.md](api.md) explains the fields and the behaviour "
        "in prose.",
        "",
        info.get("description", "").strip(),
        "",
        "Every authenticated request also takes `token` (or `uid-token`): the token from "
        "`/auth`, unless it is sent as `Authorization: Bearer t-...`. They are left out of the "
        "tables below. Aliases (the older and newer Akeyless names of one operation) are "
        "grouped under one heading.",
        "",
    ]

    # Group operations by tag, then by (summary, method, request schema): the aliases.
    groups: dict[str, dict[tuple, list]] = {}
    for path in sorted(doc.get("paths", {})):
        for method, op in sorted(doc["paths"][path].items()):
            tag = (op.get("tags") or ["other"])[0]
            request = body_schema(op.get("requestBody", {}))
            key = (op.get("summary", ""), method, json.dumps(request, sort_keys=True))
            groups.setdefault(tag, {}).setdefault(key, []).append((path, op))
    tags = [t for t in TAG_ORDER if t in groups] + sorted(t for t in groups if t not in TAG_ORDER)

    out.append("## Operations")
    out.append("")
    for tag in tags:
        out.append(f"- [{tag.capitalize()}](#{tag.replace(' ', '-')})")
    out.append("- [Schemas](#schemas)")
    out.append("")
    for tag in tags:
        out += [f"## {tag.capitalize()}", ""]
        for (summary, method, _), members in sorted(groups[tag].items(),
                                                    key=lambda kv: kv[1][0][0]):
            first_op = members[0][1]
            out += [f"### {summary or members[0][0]}", ""]
            out.append(", ".join(f"`{method.upper()} {path}`" for path, _ in members))
            out.append("")
            if first_op.get("description"):
                out += [first_op["description"].strip(), ""]
            request = body_schema(first_op.get("requestBody", {}))
            if request is not None:
                out.append("**Request body** (JSON object):")
                out.append("")
                target = schemas.get(ref_name(request["$ref"]), {}) if "$ref" in request \
                    else request
                out += field_table(target, TOKEN_FIELDS, "Required")
                out.append("")
            answers = [(path, describe_body(body_schema(op["responses"].get("200", {}))))
                       for path, op in members]
            if len({body for _, body in answers}) == 1:
                out.append(f"**Success (200):** {answers[0][1]}.")
            else:
                out.append("**Success (200):** " + "; ".join(
                    f"`{path}` returns {body}" for path, body in answers) + ".")
            out.append("")
            errors = [(code, resp.get("description", ""))
                      for code, resp in sorted(first_op.get("responses", {}).items())
                      if code != "200"]
            if errors:
                out.append("**Errors** (body `{\"error\": \"...\"}`):")
                out.append("")
                out += [f"- `{code}`: {cell(text)}" for code, text in errors]
                out.append("")
    out += ["## Schemas", "",
            "Response and request objects by name. \"Always present\" marks the fields a "
            "response always carries (for request objects: the fields that must be given).", ""]
    for name in sorted(schemas):
        schema = schemas[name]
        out += [f'<a id="{anchor(name)}"></a>', "", f"### {name}", ""]
        if schema.get("description"):
            out += [" ".join(schema["description"].split()), ""]
        if schema.get("properties"):
            out += field_table(schema)
        else:
            out.append(f"Type: {cell(type_of(schema))}.")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# ------------------------------------------------------------------------------------------
# --help -> Markdown


def strip_global_options(text: str) -> str:
    """Drop the `Global options:` block that every subcommand repeats (shown once at the top)."""
    match = re.search(r"^Global options:\n", text, re.MULTILINE)
    if not match:
        return text.rstrip()
    rest = text[match.end():]
    # The block ends at the first non-indented, non-empty line (an after-help text), if any.
    end = re.search(r"^\S", rest, re.MULTILINE)
    return (text[:match.start()] + (rest[end.start():] if end else "")).rstrip()


def subcommands(help_output: str) -> list[str]:
    match = re.search(r"^Commands:\n((?:  .*\n|\s*\n)+?)\S", help_output + "\nX", re.MULTILINE)
    if not match:
        raise GenerationError("no `Commands:` section in the --help output")
    names = []
    for line in match.group(1).splitlines():
        parts = line.split()
        if line.startswith("  ") and not line.startswith("   ") and parts and parts[0] != "help":
            names.append(parts[0])
    return names


def code_block(text: str) -> list[str]:
    return ["```text", text.rstrip(), "```", ""]


def render_cli(bin_dir: Path) -> str:
    cli = bin_dir / "mayfly"
    gateway = bin_dir / "mayfly-gateway"
    for binary in (cli, gateway):
        if not binary.is_file():
            raise GenerationError(f"{binary} does not exist; run `cargo build --bins` first")
    top = help_text(cli)
    out = [
        "# CLI reference (generated)",
        "",
        "<!-- Generated by scripts/gen-api-reference.py from the --help of `mayfly` and",
        "     `mayfly-gateway`; do not edit by hand: change the clap definitions, then rerun. -->",
        "",
        "Two binaries: `mayfly`, the client (one command per API operation, see "
        "[api-reference.md](api-reference.md)), and `mayfly-gateway`, the server.",
        "",
        "## mayfly",
        "",
        *code_block(top),
        "Every subcommand also takes the global options above; they are not repeated below.",
        "",
    ]
    for name in subcommands(top):
        out += [f"### mayfly {name}", "", *code_block(strip_global_options(help_text(cli, name)))]
    gw_top = help_text(gateway)
    out += ["## mayfly-gateway", "", *code_block(gw_top)]
    for name in subcommands(gw_top):
        out += [f"### mayfly-gateway {name}", "", *code_block(help_text(gateway, name))]
    return "\n".join(out).rstrip() + "\n"


# ------------------------------------------------------------------------------------------


def write_or_check(path: Path, text: str, check: bool) -> bool:
    """Write the page, or in check mode compare it; returns True when it is current."""
    current = path.read_text() if path.is_file() else ""
    if not check:
        path.write_text(text)
        print(f"wrote {path.relative_to(REPO_ROOT)}")
        return True
    if current == text:
        print(f"{path.relative_to(REPO_ROOT)} is up to date")
        return True
    diff = difflib.unified_diff(current.splitlines(), text.splitlines(),
                                f"{path.name} (committed)", f"{path.name} (generated)",
                                lineterm="", n=1)
    print(f"{path.relative_to(REPO_ROOT)} is OUT OF DATE; run scripts/gen-api-reference.py:")
    for i, line in enumerate(diff):
        if i >= 60:
            print("...")
            break
        print(line)
    return False


def default_bin_dir() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO_ROOT / "target")
    if not target.is_absolute():
        target = REPO_ROOT / target
    return target / "debug"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if docs/api-reference.md or docs/cli.md is not current")
    parser.add_argument("--openapi", help="OpenAPI document: a file or an https:// URL")
    parser.add_argument("--ca-cert", help="CA to trust when --openapi is an https:// URL")
    parser.add_argument("--bin-dir", type=Path, default=default_bin_dir(),
                        help="directory holding mayfly-gateway and mayfly")
    args = parser.parse_args()
    try:
        doc = load_openapi(args.openapi, args.bin_dir / "mayfly-gateway", args.ca_cert)
        pages = [(API_PAGE, render_api(doc)), (CLI_PAGE, render_cli(args.bin_dir))]
    except (GenerationError, OSError, json.JSONDecodeError) as err:
        print(f"gen-api-reference: {err}", file=sys.stderr)
        return 2
    results = [write_or_check(path, text, args.check) for path, text in pages]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
