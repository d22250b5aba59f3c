#!/usr/bin/env python3
"""Draws Stopover's icon (a white migrating-bird chevron on a teal rounded square) as RGBA
PNGs at the sizes Tauri's bundle wants. Pure standard library, so no image tool is needed."""
import math, struct, sys, zlib
from pathlib import Path

def pixel(u, v):
    # u, v in [0, 1). Rounded square background.
    r = 0.18
    dx = max(abs(u - 0.5) - (0.5 - r), 0); dy = max(abs(v - 0.5) - (0.5 - r), 0)
    if math.hypot(dx, dy) > r:
        return (0, 0, 0, 0)
    # Bird: two wing strokes meeting at (0.5, 0.58), tips at (0.2, 0.38) and (0.8, 0.38).
    def seg(ax, ay, bx, by):
        px, py = u - ax, v - ay; vx, vy = bx - ax, by - ay
        t = max(0, min(1, (px * vx + py * vy) / (vx * vx + vy * vy)))
        return math.hypot(px - t * vx, py - t * vy)
    d = min(seg(0.2, 0.36, 0.5, 0.6), seg(0.5, 0.6, 0.8, 0.36))
    if d < 0.055:
        return (255, 255, 255, 255)
    return (15, 110, 110, 255)

def png(size):
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            # 2x2 supersampling for smooth edges
            acc = [0, 0, 0, 0]
            for sx in (0.25, 0.75):
                for sy in (0.25, 0.75):
                    p = pixel((x + sx) / size, (y + sy) / size)
                    for i in range(4): acc[i] += p[i]
            row += bytes(a // 4 for a in acc)
        rows.append(bytes(row))
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))

out = Path(sys.argv[1] if len(sys.argv) > 1 else "src-tauri/icons")
out.mkdir(parents=True, exist_ok=True)
for name, size in [("32x32.png", 32), ("128x128.png", 128), ("128x128@2x.png", 256), ("icon.png", 512)]:
    (out / name).write_bytes(png(size))
