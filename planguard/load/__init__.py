"""Read input files into Plans; detection looks at content, never at names.

Every problem with an input becomes an `InputError` naming the file: a guard
that cannot read its input must not pass it.
"""

from __future__ import annotations

import codecs
import os
import shutil
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import msgspec

from planguard.errors import InputError
from planguard.model import Plan, PlanKind
from planguard.speed import mapped as speed_mapped
from planguard.speed.mapped import Buffer

DEFAULT_MAX_BYTES = 1024 * 1024 * 1024  # 1 GiB; --max-size raises it
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass
class LoadOptions:
    max_bytes: int = DEFAULT_MAX_BYTES
    # CloudFormation template pair given as --before/--after.
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    # False: Terraform plans come without dependency edges (for work that
    # never reads the graph; see planguard.value_checks).
    edges: bool = True


def read_bytes(path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """A file's bytes as UTF-8, after the checks every input goes through."""
    return bytes(read_buffer(path, max_bytes, mapped=False))


def read_buffer(path: str, max_bytes: int = DEFAULT_MAX_BYTES, *, mapped: bool = True) -> Buffer:
    """`read_bytes`, but a large regular file comes back memory-mapped."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    if p.is_dir():
        raise InputError(path, "is a directory, not a plan file")
    if not stat.S_ISREG(st.st_mode):
        # /dev/zero would be read until memory runs out, a FIFO waited on forever.
        raise InputError(path, "not a regular file (a device, pipe or socket)")
    over = InputError(
        path,
        f"file is over the {max_bytes // (1024 * 1024)} MiB limit (raise it with --max-size)",
    )
    if st.st_size > max_bytes:
        raise over
    try:
        data = speed_mapped.read(path, st.st_size, mapped, limit=max_bytes)
    except (OSError, ValueError) as exc:  # ValueError: emptied since stat()
        raise InputError(path, f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    if len(data) > max_bytes:  # grown since stat()
        raise over
    return to_utf8(path, data)


@overload
def to_utf8(path: str, data: bytes) -> bytes: ...
@overload
def to_utf8(path: str, data: Buffer) -> Buffer: ...
def to_utf8(path: str, data: Buffer) -> Buffer:
    """Plans written by PowerShell arrive as UTF-16 with a byte-order mark."""
    head = data[:4]
    if head.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            data = bytes(data).decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise InputError(path, "not valid UTF-16 text") from None
    if data[:4] == _ZIP_MAGIC:
        return data
    if not _is_utf8(data):
        try:
            bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(path, f"not UTF-8 text (bad byte at offset {exc.start})") from None
    return data


_CHUNK = 1 << 22


def _is_utf8(data: Buffer) -> bool:
    """Whether `data` is valid UTF-8, without holding a decoded copy of it all
    (which for a 300 MB plan would double the peak memory of a review)."""
    view = memoryview(data)
    if isinstance(data, bytes):
        if data.isascii():
            return True
    elif all(bytes(view[i : i + _CHUNK]).isascii() for i in range(0, len(view), _CHUNK)):
        return True
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(view), _CHUNK):
            decoder.decode(view[start : start + _CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def has_sources(directory: str) -> bool:
    """Whether `directory` holds Terraform sources (.tf files)."""
    try:
        return any(n.endswith(".tf") for n in os.listdir(directory or "."))
    except OSError:
        return False


def sources_wanted(
    plans: list[Plan], hcl_dirs: list[str], base: str | None, source_dir: str | None
) -> bool:
    """Whether `hcl.for_review` has anything to do (the HCL reader costs an import)."""
    return bool(hcl_dirs or base or source_dir) or any(
        plan.kind is PlanKind.TERRAFORM and has_sources(os.path.dirname(plan.source) or ".")
        for plan in plans
    )


def show_binary_plan(path: str) -> bytes:
    """Turn a binary plan file into JSON with the terraform or tofu on PATH."""
    exe = shutil.which("terraform") or shutil.which("tofu")
    if exe is None:
        raise InputError(
            path,
            "binary plan file: planguard reads plan JSON; "
            "run `terraform show -json tfplan > plan.json` and review plan.json",
        )
    directory = os.path.dirname(os.path.abspath(path))
    try:
        proc = subprocess.run(
            [exe, "show", "-json", "-no-color", os.path.abspath(path)],
            cwd=directory,
            capture_output=True,
            timeout=600,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InputError(path, f"`{os.path.basename(exe)} show -json` failed: {exc}") from None
    if proc.returncode != 0:
        detail = next(
            (
                line.strip()
                for line in proc.stderr.decode(errors="replace").splitlines()
                if line.strip().strip("│╷╵ ")
            ),
            "no output",
        ).strip("│╷╵ ")
        raise InputError(path, f"`{os.path.basename(exe)} show -json` failed: {detail}")
    return proc.stdout


def decode_object(path: str, data: Buffer) -> dict[str, Any]:
    """A JSON document that must be an object; anything else is an InputError."""
    try:
        doc = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise InputError(path, f"not valid JSON: {exc}") from None
    except RecursionError:
        raise InputError(path, "JSON nested too deeply") from None
    if not isinstance(doc, dict):
        raise InputError(path, f"expected a JSON object, found a {type(doc).__name__}")
    return doc


def _kind(path: str, data: Buffer) -> tuple[str, Any]:
    """("terraform", None) or a CloudFormation kind with its decoded document."""
    head = data[:4096].lstrip()
    if not head:
        raise InputError(path, "empty file")
    if head[:1] != b"{" and head[:1] != b"[":
        from planguard.load import cloudformation

        if cloudformation.looks_like_yaml_template(bytes(data)):
            return "cfn-template", None
        raise InputError(path, "not JSON (and not a CloudFormation YAML template)")
    if b'"format_version"' in head[:512]:
        return "terraform", None
    doc = decode_object(path, data)
    if "format_version" in doc:
        return "terraform", None
    if "Changes" in doc and ({"ChangeSetName", "ChangeSetId", "StackName"} & doc.keys()):
        return "cfn-change-set", doc
    if isinstance(doc.get("Resources"), dict):
        return "cfn-template", doc
    if {"version", "lineage", "resources"} <= doc.keys():
        raise InputError(path, "this is a Terraform state file, not a plan")
    keys = ", ".join(sorted(str(k)[:40] for k in doc)[:6]) or "none"
    raise InputError(
        path,
        f"not a Terraform plan or CloudFormation change set/template (top-level keys: {keys})",
    )


def load(paths: list[str], options: LoadOptions | None = None) -> list[Plan]:
    """Every input, in the order given; CloudFormation inputs are combined."""
    options = options or LoadOptions()
    plans: list[Plan] = []
    cfn: list[tuple[str, str, Any, bytes]] = []
    for path in paths:
        if Path(path).is_dir():
            from planguard.load import cloudformation

            if cloudformation.is_cdk_out(path):
                cfn.extend(cloudformation.read_cdk_out(path, options.max_bytes))
                continue
            raise InputError(path, "is a directory (give plan files, or a cdk.out directory)")
        data = read_buffer(path, options.max_bytes)
        if data[:4] == _ZIP_MAGIC:
            data = to_utf8(path, show_binary_plan(path))
        kind, doc = _kind(path, data)
        if kind == "terraform":
            from planguard.load import terraform

            plans.append(terraform.load(path, data, edges=options.edges))
        else:
            cfn.append((path, kind, doc, bytes(data)))
    if cfn or options.before or options.after:
        from planguard.load import cloudformation

        plans.extend(cloudformation.build(cfn, options))
    return plans


def terraform_bytes(paths: list[str]) -> int | None:
    """How many bytes `paths` hold in all; None unless every one is a Terraform
    plan JSON file (other inputs are combined, or read another way)."""
    total = 0
    for path in paths:
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):
                return None  # opening a FIFO would wait: the ordinary path refuses it
            with open(path, "rb") as f:
                total += os.fstat(f.fileno()).st_size
                head = f.read(512).lstrip()
        except OSError:
            return None  # the ordinary path words the error
        if not (head.startswith(b"{") and b'"format_version"' in head):
            return None
    return total
