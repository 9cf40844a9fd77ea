"""One validation layer for every input the harness reads, run before anything starts.

    documents   read a file: bounded size, strict UTF-8, no NUL, parsed without recursion
                errors (nesting depth and YAML alias expansion bounded), strings encodable
    values      syntax of URLs, AWS Region codes, names, finite numbers; loopback test
    models      strict pydantic schemas and their errors as one line: FILE: key.path = VALUE
                is invalid; expected WHAT
    experiment  Chaos Toolkit experiments: JSON Schema, chaoslib, argument types
    limits      the bounds (file size, name length, depth, items)

Target files (config.py), plans (gameday/plan.py), check files (synthetics/definitions.py)
and thresholds (load/thresholds.py) build on these; CLI option values use the types in
cli/options.py. Every refusal is a ConfigError: exit 2.
"""
