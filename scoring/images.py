"""Image files a model wrote: found inside their folder, headers read by us, pixels bounded.

Every byte a model writes is hostile (ARCHITECTURE.md rule 9). A MetaImage header may name its
pixel data anywhere on the host (``ElementDataFile = /srv/keys/...``), a NIfTI pair names a
second file, a link may lead to the hidden truth, and ITK fills the missing part of a short
NIfTI file without a word. So no image library sees a file before this module has:

1. found it inside its folder one name at a time with ``lstat``: no absolute path, no ``..``,
   no symbolic link anywhere on the way, a regular file with one name (no hard link), at most
   `MAX_IMAGE_BYTES`;
2. read its header itself, from a bounded number of leading bytes, and accepted only the
   self-contained formats: single-file NIfTI-1 / NIfTI-2 (``.nii``, ``.nii.gz``), MetaImage
   ``.mha`` whose ``ElementDataFile`` is ``LOCAL``, and greyscale PNG; one real value per
   voxel, two or three dimensions, at most `MAX_VOXELS`;
3. told SimpleITK which reader to use (`Header.io`), so ITK never picks a format from the
   bytes or the name.

The voxels of NIfTI and MetaImage files are then read here as well (`read_array`), so that a
file shorter than its header promises is refused instead of being padded. SimpleITK reads only
their header (geometry, in `read_information`) and the pixels of PNG files. Every refusal is an
`FileRefused` whose message names the file by its own name, never by a host path.
"""

from __future__ import annotations

import contextlib
import math
import os
import stat
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
import SimpleITK as sitk

from scoring.errors import FileRefused, quote

MAX_IMAGE_BYTES = 4 << 30  # a 512 x 512 x 1024 float64 volume is 2 GiB
MAX_VOXELS = 1 << 30
MAX_NAME = 1024
_MHA_HEADER_BYTES = 64 << 10
_GZIP_INPUT_FOR_HEADER = 1 << 20  # compressed bytes we read at most to reach a NIfTI header
_CHUNK = 1 << 18

_NIFTI_TYPES = {
    2: "u1",
    4: "i2",
    8: "i4",
    16: "f4",
    64: "f8",
    256: "i1",
    512: "u2",
    768: "u4",
    1024: "i8",
    1280: "u8",
}
_META_TYPES = {
    "MET_UCHAR": "u1",
    "MET_CHAR": "i1",
    "MET_USHORT": "u2",
    "MET_SHORT": "i2",
    "MET_UINT": "u4",
    "MET_INT": "i4",
    "MET_ULONG_LONG": "u8",
    "MET_LONG_LONG": "i8",
    "MET_FLOAT": "f4",
    "MET_DOUBLE": "f8",
}
_SITK_TYPES = {
    sitk.sitkUInt8: "u1",
    sitk.sitkInt8: "i1",
    sitk.sitkUInt16: "u2",
    sitk.sitkInt16: "i2",
    sitk.sitkUInt32: "u4",
    sitk.sitkInt32: "i4",
    sitk.sitkUInt64: "u8",
    sitk.sitkInt64: "i8",
    sitk.sitkFloat32: "f4",
    sitk.sitkFloat64: "f8",
}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_GZIP_MAGIC = b"\x1f\x8b"
_ACCEPTED = ".nii, .nii.gz, .mha (ElementDataFile = LOCAL) or .png"


@dataclass(frozen=True)
class Header:
    """What our own reader found in a file's leading bytes."""

    io: str  # the SimpleITK ImageIO that alone may read it
    size: tuple[int, ...]  # (x, y[, z]), SimpleITK's order
    dtype: np.dtype | None  # None: PNG, whose pixels SimpleITK decodes
    offset: int  # where the voxels start (in the decompressed stream when compressed)
    compression: str | None  # None, "gzip" (the whole file), "zlib" (MetaImage voxels)

    @property
    def voxels(self) -> int:
        return math.prod(self.size)

    @property
    def data_bytes(self) -> int:
        return self.voxels * (self.dtype.itemsize if self.dtype is not None else 1)


@dataclass(frozen=True)
class Information:
    """The geometry SimpleITK reads from a checked header (no voxels are read)."""

    size: tuple[int, ...]
    spacing: tuple[float, ...]
    origin: tuple[float, ...]
    direction: tuple[float, ...]
    pixel: str
    integer: bool


# --- where a file is ---------------------------------------------------------------------------


def resolve_inside(folder: Path, relative: str) -> Path:
    """The file ``relative`` names under ``folder``, walked one name at a time, never a link."""
    if not isinstance(relative, str) or not relative:
        raise FileRefused("must be a relative file path")
    shown = quote(relative)
    if len(relative) > MAX_NAME or any(ord(c) < 32 for c in relative):
        raise FileRefused(f"{shown} is not a usable file name")
    if PurePosixPath(relative).is_absolute() or PureWindowsPath(relative).is_absolute():
        raise FileRefused(f"{shown} is absolute; give a path relative to the output folder")
    if "\\" in relative:
        raise FileRefused(f"{shown}: separate folders with '/', not '\\'")
    parts = [part for part in relative.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise FileRefused(f"{shown} leaves the output folder ('..')")
    if not parts:
        raise FileRefused(f"{shown} names no file")
    current = folder.resolve()
    for index, part in enumerate(parts):
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except (FileNotFoundError, NotADirectoryError):
            raise FileRefused(f"file {shown} does not exist") from None
        except OSError:
            raise FileRefused(f"file {shown} cannot be examined") from None
        if stat.S_ISLNK(mode):
            raise FileRefused(
                f"{shown} passes through a symbolic link ({part!r}); links can lead outside"
                " the output folder and are refused"
            )
        if index < len(parts) - 1 and not stat.S_ISDIR(mode):
            raise FileRefused(f"file {shown} does not exist")
    regular_file(current)
    return current


def regular_file(path: Path, limit: int = MAX_IMAGE_BYTES) -> os.stat_result:
    """``path`` itself: a regular file, not a link, with one name, at most ``limit`` bytes."""
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        raise FileRefused(f"file {path.name!r} does not exist") from None
    except OSError:
        raise FileRefused(f"file {path.name!r} cannot be examined") from None
    if stat.S_ISLNK(status.st_mode):
        raise FileRefused(f"{path.name!r} is a symbolic link; links are refused")
    if not stat.S_ISREG(status.st_mode):
        raise FileRefused(f"{path.name!r} is not a regular file")
    if status.st_nlink > 1:
        raise FileRefused(f"{path.name!r} is a hard link ({status.st_nlink} names for one file)")
    if status.st_size > limit:
        raise FileRefused(f"{path.name!r} is {status.st_size:,} bytes; the limit is {limit:,}")
    return status


def open_no_follow(path: Path):
    """Open for reading without following a final symbolic link and without blocking on a fifo."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    return os.fdopen(descriptor, "rb")


# --- headers -----------------------------------------------------------------------------------


def read_header(path: Path) -> Header:
    """Check ``path`` (a regular file) and parse its header; raise `FileRefused`."""
    status = regular_file(path)
    name = path.name
    lowered = name.lower()
    try:
        with open_no_follow(path) as stream:
            if lowered.endswith(".nii.gz"):
                header = _nifti(_gunzip_head(stream, name, 540), name, "gzip")
            elif lowered.endswith(".nii"):
                header = _nifti(stream.read(540), name, None)
            elif lowered.endswith(".mha"):
                header = _metaimage(stream.read(_MHA_HEADER_BYTES), name)
            elif lowered.endswith(".png"):
                header = _png(stream.read(33), name)
            elif lowered.endswith(".mhd"):
                raise FileRefused(
                    f"{name!r} is a MetaImage header whose voxels lie in another file;"
                    " write a single .mha file with ElementDataFile = LOCAL"
                )
            else:
                raise FileRefused(f"{name!r}: accepted image files are {_ACCEPTED}")
    except OSError:
        raise FileRefused(f"{name!r} cannot be opened") from None
    if header.compression is None and status.st_size < header.offset + header.data_bytes:
        raise FileRefused(_too_short(name, header, status.st_size - header.offset))
    return header


def _too_short(name: str, header: Header, got: int) -> str:
    return (
        f"{name!r} is too short: its header promises {header.data_bytes:,} bytes of voxels,"
        f" the file holds {max(got, 0):,}"
    )


def _gunzip_head(stream, name: str, count: int) -> bytes:
    """The first ``count`` bytes of a gzip stream, inflating no more than that."""
    if stream.read(2) != _GZIP_MAGIC:
        raise FileRefused(f"{name!r} is not gzip-compressed, as .nii.gz promises")
    stream.seek(0)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    parts, got, consumed = [], 0, 0
    try:
        while got < count and not inflater.eof:
            block = inflater.unconsumed_tail
            if not block:
                if consumed >= max(_GZIP_INPUT_FOR_HEADER, count):
                    break
                block = stream.read(64 << 10)
                if not block:
                    break
                consumed += len(block)
            part = inflater.decompress(block, count - got)
            parts.append(part)
            got += len(part)
    except zlib.error:
        raise FileRefused(f"{name!r}: its gzip data is corrupt") from None
    return b"".join(parts)


def _nifti(head: bytes, name: str, compression: str | None) -> Header:
    if len(head) < 348:
        raise FileRefused(f"{name!r} is too short to hold a NIfTI header")
    for order in "<>":
        sizeof_hdr = struct.unpack_from(order + "i", head)[0]
        if sizeof_hdr in (348, 540):
            break
    else:
        raise FileRefused(f"{name!r} is not a NIfTI file")
    if sizeof_hdr == 348:
        magic, minimum = head[344:348], 352
        if magic == b"ni1\x00":
            raise FileRefused(f"{name!r} is a NIfTI pair whose voxels lie in a separate file")
        if magic != b"n+1\x00":
            raise FileRefused(f"{name!r} is not a NIfTI-1 file (magic)")
        dim = struct.unpack_from(order + "8h", head, 40)
        datatype, bitpix = struct.unpack_from(order + "2h", head, 70)
        vox_offset, slope, intercept = struct.unpack_from(order + "3f", head, 108)
    else:
        if len(head) < 540:
            raise FileRefused(f"{name!r} is too short to hold a NIfTI-2 header")
        magic, minimum = head[4:12], 544
        if magic == b"ni2\x00\r\n\x1a\n":
            raise FileRefused(f"{name!r} is a NIfTI pair whose voxels lie in a separate file")
        if magic != b"n+2\x00\r\n\x1a\n":
            raise FileRefused(f"{name!r} is not a NIfTI-2 file (magic)")
        datatype, bitpix = struct.unpack_from(order + "2h", head, 12)
        dim = struct.unpack_from(order + "8q", head, 16)
        (vox_offset,) = struct.unpack_from(order + "q", head, 168)
        slope, intercept = struct.unpack_from(order + "2d", head, 176)
    code = _NIFTI_TYPES.get(datatype)
    if code is None or np.dtype(code).itemsize * 8 != bitpix:
        raise FileRefused(f"{name!r}: NIfTI datatype {datatype} is not one real number per voxel")
    if not 2 <= dim[0] <= 3:
        raise FileRefused(f"{name!r} has {dim[0]} dimensions; 2 or 3 are accepted")
    if not (math.isfinite(vox_offset) and vox_offset == int(vox_offset)):
        raise FileRefused(f"{name!r}: its NIfTI vox_offset is not a whole number")
    if not minimum <= vox_offset <= MAX_IMAGE_BYTES:
        raise FileRefused(f"{name!r}: its NIfTI vox_offset {vox_offset:g} is out of range")
    # Scaling would make ITK hand back other values (and another pixel type) than the file holds.
    unscaled = slope in (0.0, 1.0) or math.isnan(slope)
    if not (unscaled and (intercept == 0 or math.isnan(intercept))):
        raise FileRefused(f"{name!r}: intensity scaling (scl_slope, scl_inter) is not accepted")
    size = _size(dim[1 : dim[0] + 1], name)
    return Header("NiftiImageIO", size, np.dtype(order + code), int(vox_offset), compression)


def _size(values, name: str) -> tuple[int, ...]:
    size = tuple(int(v) for v in values)
    if any(v < 1 for v in size):
        raise FileRefused(f"{name!r}: image size {size} has an empty dimension")
    if math.prod(size) > MAX_VOXELS:
        raise FileRefused(f"{name!r}: {math.prod(size):,} voxels; the limit is {MAX_VOXELS:,}")
    return size


def _metaimage(head: bytes, name: str) -> Header:
    fields: dict[str, str] = {}
    offset = 0
    data_file = None
    while offset < len(head):
        end = head.find(b"\n", offset)
        if end < 0:
            break
        raw, offset = head[offset:end].rstrip(b"\r"), end + 1
        try:
            line = raw.decode("ascii")
        except UnicodeDecodeError:
            raise FileRefused(f"{name!r}: its MetaImage header is not plain text") from None
        if not line.strip():
            continue
        if not line.isprintable():
            raise FileRefused(f"{name!r}: its MetaImage header is not plain text")
        key, separator, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not separator or not key:
            raise FileRefused(f"{name!r}: MetaImage header line without 'key = value'")
        if key.replace(" ", "").lower() == "elementdatafile":
            data_file = value
            break  # MetaIO reads no further: the voxels follow
        if key in fields:
            raise FileRefused(f"{name!r}: MetaImage header repeats {key[:40]!r}")
        fields[key] = value
    if data_file is None:
        raise FileRefused(
            f"{name!r}: no 'ElementDataFile = LOCAL' line in the first"
            f" {_MHA_HEADER_BYTES:,} bytes of the MetaImage header"
        )
    if data_file not in ("LOCAL", "Local", "local"):
        raise FileRefused(
            f"{name!r}: ElementDataFile names another file; only LOCAL (voxels in the same"
            " file) is accepted"
        )
    if fields.get("ObjectType") != "Image":
        raise FileRefused(f"{name!r}: MetaImage ObjectType must be Image")
    if "HeaderSize" in fields:
        raise FileRefused(f"{name!r}: MetaImage HeaderSize is not accepted")
    if fields.get("BinaryData", "True") != "True":
        raise FileRefused(f"{name!r}: MetaImage voxels must be binary (BinaryData = True)")
    if fields.get("ElementNumberOfChannels", "1") != "1":
        raise FileRefused(f"{name!r} must have one value per voxel")
    code = _META_TYPES.get(fields.get("ElementType", ""))
    if code is None:
        raise FileRefused(f"{name!r}: MetaImage ElementType is not one accepted number type")
    try:
        dims = int(fields.get("NDims", ""))
        values = [int(v) for v in fields.get("DimSize", "").split()]
    except ValueError:
        raise FileRefused(f"{name!r}: MetaImage NDims / DimSize are not whole numbers") from None
    if dims not in (2, 3) or len(values) != dims:
        raise FileRefused(f"{name!r}: 2 or 3 dimensions are accepted, with one DimSize each")
    msb = fields.get("BinaryDataByteOrderMSB", fields.get("ElementByteOrderMSB", "False"))
    compressed = fields.get("CompressedData", "False")
    if msb not in ("True", "False") or compressed not in ("True", "False"):
        raise FileRefused(f"{name!r}: MetaImage flags must be True or False")
    dtype = np.dtype((">" if msb == "True" else "<") + code)
    return Header(
        "MetaImageIO",
        _size(values, name),
        dtype,
        offset,
        "zlib" if compressed == "True" else None,
    )


def _png(head: bytes, name: str) -> Header:
    if len(head) < 33 or head[:8] != _PNG_SIGNATURE or head[12:16] != b"IHDR":
        raise FileRefused(f"{name!r} is not a PNG file")
    width, height, depth, colour = struct.unpack_from(">IIBB", head, 16)
    if colour != 0 or depth not in (1, 2, 4, 8, 16):
        raise FileRefused(f"{name!r} must be a greyscale PNG (one value per pixel)")
    return Header("PNGImageIO", _size((width, height), name), None, 0, None)


# --- reading -----------------------------------------------------------------------------------


def read_information(path: Path) -> Information:
    """Geometry from SimpleITK, told which reader to use, after our own header check; the two
    readings must agree on size and pixel type."""
    header = read_header(path)
    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    reader.SetImageIO(header.io)
    try:
        reader.ReadImageInformation()
    except RuntimeError:
        raise FileRefused(f"{path.name!r} cannot be read as an image ({_ACCEPTED})") from None
    if reader.GetNumberOfComponents() != 1:
        raise FileRefused(f"{path.name!r} must have one value per voxel")
    size = tuple(reader.GetSize())
    code = _SITK_TYPES.get(reader.GetPixelID())
    if size != header.size or (header.dtype is not None and code != header.dtype.str[1:]):
        raise FileRefused(f"{path.name!r}: its header is inconsistent")
    return Information(
        size=size,
        spacing=tuple(reader.GetSpacing()),
        origin=tuple(reader.GetOrigin()),
        direction=tuple(reader.GetDirection()),
        pixel=sitk.GetPixelIDValueAsString(reader.GetPixelID()),
        integer=code is not None and code[0] in "iu",
    )


def read_array(path: Path) -> np.ndarray:
    """The voxels as a (z, y, x) array, SimpleITK's order; every byte the header promises must
    be there."""
    header = read_header(path)
    if header.dtype is None:
        return _itk_array(path, header)
    if header.compression == "gzip":
        # SimpleITK inflates several times faster than Python's zlib, but pads a short file
        # without a word: its voxels are taken only when they are exactly the stream the
        # file's gzip trailer describes (its CRC-32 and length), else read here.
        with contextlib.suppress(FileRefused):  # then read here, to say what is wrong
            array = _itk_array(path, header)
            if _matches_gzip_trailer(path, header, array):
                return array
    buffer = np.empty(header.data_bytes, dtype=np.uint8)
    try:
        with open_no_follow(path) as stream:
            if header.compression is None:
                stream.seek(header.offset)
                got = stream.readinto(memoryview(buffer))
            else:
                if header.compression == "zlib":
                    stream.seek(header.offset)
                skip = header.offset if header.compression == "gzip" else 0
                got = _inflate_into(stream, buffer, skip, header.compression, path.name)
    except OSError:
        raise FileRefused(f"{path.name!r} cannot be read") from None
    if got < header.data_bytes:
        raise FileRefused(_too_short(path.name, header, got))
    return buffer.view(header.dtype).reshape(header.size[::-1])


def _itk_array(path: Path, header: Header) -> np.ndarray:
    try:
        return sitk.GetArrayFromImage(sitk.ReadImage(str(path), imageIO=header.io))
    except RuntimeError:
        raise FileRefused(f"{path.name!r}: its pixels cannot be decoded") from None


def _matches_gzip_trailer(path: Path, header: Header, array: np.ndarray) -> bool:
    """Whether header bytes + ``array`` (in the file's byte order) are the whole gzip stream:
    a single member whose CRC-32 and length, in the last 8 bytes, are theirs."""
    if array.dtype.str[1:] != header.dtype.str[1:] or array.shape != header.size[::-1]:
        return False
    length = header.offset + header.data_bytes
    try:
        with open_no_follow(path) as stream:
            stream.seek(-8, os.SEEK_END)
            crc, size = struct.unpack("<II", stream.read(8))
            if size != length % (1 << 32):
                return False
            stream.seek(0)
            head = _gunzip_head(stream, path.name, header.offset)
    except (OSError, struct.error):
        return False
    voxels = array.astype(header.dtype, copy=False)  # back to the file's byte order
    return len(head) == header.offset and zlib.crc32(voxels.data, zlib.crc32(head)) == crc


def _inflate_into(stream, buffer: np.ndarray, skip: int, kind: str, name: str) -> int:
    """Inflate ``stream`` into ``buffer`` after dropping ``skip`` bytes; bytes filled. Stops as
    soon as the buffer is full, so a stream that inflates without end costs nothing more."""
    wbits = 16 + zlib.MAX_WBITS if kind == "gzip" else 32 + zlib.MAX_WBITS
    inflater = zlib.decompressobj(wbits)
    view, filled, total = memoryview(buffer), 0, len(buffer)
    pending, exhausted, members = b"", False, 1
    while filled < total:
        if inflater.eof:  # a gzip file may hold several members, read one after another
            pending = inflater.unused_data or stream.read(_CHUNK)
            if kind != "gzip" or not pending:
                break
            inflater, members = zlib.decompressobj(wbits), members + 1
        elif not pending and not exhausted:
            pending = stream.read(_CHUNK)
            exhausted = not pending
        try:
            block = inflater.decompress(pending, min(_CHUNK, skip + total - filled))
        except zlib.error:
            if members > 1:  # trailing bytes after a complete member: gzip readers stop there
                break
            raise FileRefused(f"{name!r}: its compressed data is corrupt") from None
        pending = inflater.unconsumed_tail
        if not block and not pending and exhausted:
            break
        if skip:
            dropped = min(skip, len(block))
            block, skip = block[dropped:], skip - dropped
        view[filled : filled + len(block)] = block
        filled += len(block)
    if filled == total:
        _check_end(inflater, pending, stream, name)
    return filled


def _check_end(inflater, pending: bytes, stream, name: str) -> None:
    """The member that the voxels end in must end cleanly: its CRC-32 and length checked by
    zlib. Bytes beyond the voxels are left unread, as SimpleITK leaves them."""
    try:
        while not inflater.eof:
            if not pending:
                pending = stream.read(_CHUNK)
                if not pending:
                    return
            if inflater.decompress(pending, 1):
                return
            pending = inflater.unconsumed_tail
    except zlib.error:
        raise FileRefused(f"{name!r}: its compressed data is corrupt") from None
