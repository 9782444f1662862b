"""Validate Kubernetes manifests offline; prints one JSON line per YAML document.

    kubectl kustomize deploy/overlays/cloud > cloud.yaml
    "$HALA_TOOLS_PYTHON" test/support/validate-manifests.py --kubernetes 1.33.0 cloud.yaml deploy/*/kustomization.yaml

Built-in kinds go against the schemas bundled in kubernetes-validate, strict (an unknown field is an
error); KEDA's keda.sh/v1alpha1 kinds against keda-v1alpha1.schema.json beside this file (written
from KEDA's documented fields); a kustomization (or component) must list exactly the other files of
its folder, and every folder it names must hold a kustomization.
Anything else is an error: no document passes unvalidated. Nothing here touches the network.
Each line: {"file", "index", "kind", "name", "errors": [...]}; exit status 1 if any has errors.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

KEDA_SCHEMA = Path(__file__).with_name("keda-v1alpha1.schema.json")
KUSTOMIZE_KINDS = {("kustomize.config.k8s.io/v1beta1", "Kustomization"), ("kustomize.config.k8s.io/v1alpha1", "Component")}


def keda_errors(doc: dict) -> list[str]:
    schema = json.loads(KEDA_SCHEMA.read_text())
    kind_schema = schema["$defs"].get(doc.get("kind"))
    if kind_schema is None:
        return [f"no schema for KEDA kind {doc.get('kind')!r} in {KEDA_SCHEMA.name}"]
    validator = jsonschema.Draft202012Validator(kind_schema)
    return [f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))]


def kustomization_errors(doc: dict, path: Path) -> list[str]:
    """Its files (resources, patch files) are exactly the other YAML files of its folder; every folder
    it names (a base, a component) holds a kustomization."""
    entries = list(doc.get("resources") or []) + list(doc.get("components") or [])
    folders = [e for e in entries if "/" in e or (path.parent / e).is_dir()]
    listed = {e for e in entries if e not in folders} | {p["path"] for p in doc.get("patches") or [] if "path" in p}
    present = {p.name for p in path.parent.glob("*.yaml") if p.name != path.name}
    errors = [f"lists {name}, which is not in {path.parent}" for name in sorted(listed - present)]
    errors += [f"{name} is in {path.parent} but not listed" for name in sorted(present - listed)]
    errors += [f"names {f}, which holds no kustomization.yaml" for f in folders if not (path.parent / f / "kustomization.yaml").is_file()]
    return errors


def kubernetes_errors(doc: dict, version: str) -> list[str]:
    try:
        kubernetes_validate.validate(doc, version, strict=True)
    except kubernetes_validate.ValidationError as e:
        return [f"{'.'.join(map(str, e.path)) or '(root)'}: {e.message}"]
    except kubernetes_validate.SchemaNotFoundError as e:
        return [str(e.message)]
    return []


def errors_of(doc: object, path: Path, version: str) -> list[str]:
    if not isinstance(doc, dict) or "apiVersion" not in doc or "kind" not in doc:
        return ["not a Kubernetes object (no apiVersion and kind)"]
    api = str(doc["apiVersion"])
    if api.startswith("keda.sh/"):
        return keda_errors(doc)
    if (api, doc["kind"]) in KUSTOMIZE_KINDS:
        return kustomization_errors(doc, path)
    return kubernetes_errors(doc, version)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kubernetes", required=True, help="the Kubernetes version whose schemas apply (e.g. 1.33.0)")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    failed = False
    for path in args.files:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        for index, doc in enumerate(docs):
            errors = errors_of(doc, path, args.kubernetes)
            failed |= bool(errors)
            meta = doc.get("metadata", {}) if isinstance(doc, dict) else {}
            print(json.dumps({"file": str(path), "index": index, "kind": doc.get("kind") if isinstance(doc, dict) else None,
                              "name": (meta or {}).get("name"), "errors": errors}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
