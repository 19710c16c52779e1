"""Render Kanin's icon files from ``kanin.svg``: PNGs, a Windows ``.ico`` and a macOS ``.icns``.

Run from anywhere: ``.venv/bin/python resources/make_icons.py``. It needs only
PySide6-Essentials (QtSvg renders the SVG); the ICO and ICNS containers are
written by hand, both holding PNG-compressed images, which Windows (Vista and
later) and macOS (10.7 and later) read. The result is checked by reading both
containers back with Qt's own ``ico`` and ``icns`` image plugins.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QImageReader, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

HERE = Path(__file__).resolve().parent
SVG = HERE / "kanin.svg"
PNG_SIZES = (16, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types holding PNG data, by pixel size (Apple's iconutil uses the same).
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"ic11", 32),  # 16 pt @2x
    (b"icp6", 64),
    (b"ic12", 64),  # 32 pt @2x
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic13", 256),  # 128 pt @2x
    (b"ic09", 512),
    (b"ic14", 512),  # 256 pt @2x
    (b"ic10", 1024),  # 512 pt @2x
)


def render(renderer: QSvgRenderer, size: int) -> QImage:
    """Render the SVG into a transparent square image.

    Args:
        renderer: the loaded SVG.
        size: the width and height in pixels.

    Returns:
        The image, ARGB32.
    """
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image.convertToFormat(QImage.Format.Format_ARGB32)


def png_bytes(image: QImage) -> bytes:
    """Encode an image as PNG.

    Args:
        image: the image.

    Returns:
        The PNG file's bytes.
    """
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, b"PNG"):
        raise RuntimeError("Qt could not encode a PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """Build a Windows icon holding PNG images.

    Args:
        pngs: PNG bytes by pixel size (at most 256).

    Returns:
        The ``.ico`` file's bytes.
    """
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries = b""
    for size in sizes:
        dim = 0 if size >= 256 else size  # 0 means 256
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(pngs[size]), offset)
        offset += len(pngs[size])
    return header + entries + b"".join(pngs[size] for size in sizes)


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """Build a macOS icon family holding PNG images.

    Args:
        pngs: PNG bytes by pixel size; every size in ``ICNS_TYPES`` is needed.

    Returns:
        The ``.icns`` file's bytes.
    """
    body = b"".join(
        kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_TYPES
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def check(path: Path, expected_sizes: set[int]) -> None:
    """Read an icon container back with Qt and check every image size is there.

    Args:
        path: the ``.ico`` or ``.icns`` file.
        expected_sizes: the pixel sizes it must hold.

    Raises:
        RuntimeError: when Qt cannot read it or a size is missing.
    """
    reader = QImageReader(str(path))
    found: set[int] = set()
    for _ in range(max(reader.imageCount(), 1)):
        image = reader.read()
        if image.isNull():
            raise RuntimeError(f"Qt cannot read {path.name}: {reader.errorString()}")
        found.add(image.width())
        if not reader.jumpToNextImage():
            break
    if not expected_sizes <= found:
        raise RuntimeError(f"{path.name} lacks sizes {sorted(expected_sizes - found)}")


def main() -> int:
    """Write every icon file next to the SVG; returns the exit code."""
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        print(f"cannot load {SVG}", file=sys.stderr)
        return 1
    needed = set(PNG_SIZES) | set(ICO_SIZES) | {size for _, size in ICNS_TYPES}
    pngs = {size: png_bytes(render(renderer, size)) for size in sorted(needed)}
    for size in PNG_SIZES:
        (HERE / f"kanin-{size}.png").write_bytes(pngs[size])
    (HERE / "kanin.ico").write_bytes(ico_bytes({size: pngs[size] for size in ICO_SIZES}))
    (HERE / "kanin.icns").write_bytes(icns_bytes(pngs))
    check(HERE / "kanin.ico", set(ICO_SIZES))
    check(HERE / "kanin.icns", {size for _, size in ICNS_TYPES})
    print(f"wrote {len(PNG_SIZES)} PNGs, kanin.ico and kanin.icns in {HERE}")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
