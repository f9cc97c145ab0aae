"""Generate Python code for the event contracts in proto/ into libs/contracts/.

`python tools/gen_proto.py` rewrites the generated files; `--check` regenerates into a
temporary folder and exits 1, naming the files, when the committed code is stale.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
OUT_PACKAGE = "crm"
OUT_PARENT = ROOT / "libs" / "contracts"


def generate(into: Path) -> None:
    """Run protoc on every .proto under proto/ and add package __init__ files."""
    protos = sorted(str(p.relative_to(PROTO_DIR)) for p in PROTO_DIR.rglob("*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    args = ["protoc", f"-I{PROTO_DIR}", f"-I{include}", f"--python_out={into}", f"--pyi_out={into}", *protos]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for folder in [into / OUT_PACKAGE, *(p for p in (into / OUT_PACKAGE).rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()
    (into / OUT_PACKAGE / "py.typed").touch()


def stale_files(fresh: Path, committed: Path) -> list[str]:
    """Paths (relative) that differ between a fresh generation and the committed tree."""
    fresh_files = {p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file()}
    committed_files = {
        p.relative_to(committed) for p in committed.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    }
    differing = fresh_files ^ committed_files
    differing |= {p for p in fresh_files & committed_files if not filecmp.cmp(fresh / p, committed / p, shallow=False)}
    return sorted(str(p) for p in differing)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when generated code is stale")
    check = parser.parse_args().check
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        fresh, committed = Path(tmp) / OUT_PACKAGE, OUT_PARENT / OUT_PACKAGE
        if check:
            stale = stale_files(fresh, committed)
            if stale:
                print("generated contract code is stale; run `make proto`:", *stale, sep="\n  ")
                return 1
            print("generated contract code is up to date")
            return 0
        shutil.rmtree(committed, ignore_errors=True)
        shutil.copytree(fresh, committed)
        print(f"generated {sum(1 for _ in committed.rglob('*_pb2.py'))} modules into {committed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
