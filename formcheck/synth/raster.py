"""Perspective camera, background and z-buffered sphere rasteriser with simple shading.

In:  `Spheres` in world metres, a `Camera` and a background image.
Out: an RGB uint8 frame and a boolean person mask. Each sphere is drawn as the disc of its
     projected radius; per-pixel depth is centre depth - sqrt(r^2 - d^2), the nearest wins,
     and shading is Lambert plus ambient plus a faint highlight from the sphere normal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from formcheck.synth.body import Spheres

VERTICAL_FOV_DEG = 48.0
TARGET_HEIGHT_M = 0.85


@dataclass(frozen=True)
class Camera:
    """Pinhole camera: world->camera rotation rows (right, up, forward), centre, focal length."""

    rotation: np.ndarray
    centre: np.ndarray
    focal_px: float
    width: int
    height: int

    @classmethod
    def looking_at_lifter(
        cls,
        yaw_deg: float,
        pitch_deg: float,
        distance_m: float,
        facing: str,
        width: int,
        height: int,
        target_height_m: float = TARGET_HEIGHT_M,
    ) -> Camera:
        """Camera on the lifter's side (facing right: on the lifter's right, world +z), turned by
        yaw towards the lifter's front (+x), raised by pitch, aimed at hip height above the
        ankles (or `target_height_m` above the world origin)."""
        side = 1.0 if facing == "right" else -1.0
        yaw, pitch = np.radians(yaw_deg), np.radians(pitch_deg)
        target = np.array([0.0, target_height_m, 0.0])
        out = np.array(
            [np.cos(pitch) * np.sin(yaw), np.sin(pitch), side * np.cos(pitch) * np.cos(yaw)]
        )
        centre = target + distance_m * out
        forward = -out
        right = np.cross(forward, [0.0, 1.0, 0.0])
        right /= np.linalg.norm(right)
        up = np.cross(right, forward)
        focal = 0.5 * height / np.tan(np.radians(VERTICAL_FOV_DEG) / 2)
        return cls(np.stack([right, up, forward]), centre, float(focal), width, height)

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points (N, 3) to camera coordinates (x right, y up, z depth)."""
        return (points - self.centre) @ self.rotation.T

    def project(self, points: np.ndarray) -> np.ndarray:
        """World points (N, 3) to pixel coordinates (N, 2), origin top-left."""
        pc = self.to_camera(points)
        x = 0.5 * self.width + self.focal_px * pc[:, 0] / pc[:, 2]
        y = 0.5 * self.height - self.focal_px * pc[:, 1] / pc[:, 2]
        return np.stack([x, y], axis=1)

    def rays(self) -> np.ndarray:
        """World direction of every pixel centre, (H, W, 3), not normalised."""
        xs = (np.arange(self.width) + 0.5 - 0.5 * self.width) / self.focal_px
        ys = -(np.arange(self.height) + 0.5 - 0.5 * self.height) / self.focal_px
        gx, gy = np.meshgrid(xs, ys)
        cam = np.stack([gx, gy, np.ones_like(gx)], axis=-1)
        return cam @ self.rotation


def light_direction(camera: Camera) -> np.ndarray:
    """Unit vector towards the key light, in camera coordinates: above, beside the camera."""
    to_camera = camera.centre - np.array([0.0, TARGET_HEIGHT_M, 0.0])
    to_camera /= np.linalg.norm(to_camera)
    world = 0.55 * to_camera + np.array([0.25, 0.8, 0.0])
    world /= np.linalg.norm(world)
    return camera.rotation @ world


# Soft contact shadow on the floor: centre x, centre z, half-length along x and along z (metres).
FEET_SHADOW = (0.05, 0.0, 0.28, 0.3)


def background(
    camera: Camera,
    style: str,
    seed: int,
    shadow: tuple[float, float, float, float] = FEET_SHADOW,
) -> np.ndarray:
    """Floor and back wall as seen by the camera, float RGB (H, W, 3) in 0..1."""
    rays = camera.rays()
    h, w = camera.height, camera.width
    if style == "plain":
        return np.broadcast_to(np.array([0.78, 0.78, 0.76]), (h, w, 3)).copy()
    c = camera.centre
    fwd = camera.rotation[2].copy()
    fwd[1] = 0.0
    fwd /= np.linalg.norm(fwd)
    wall_dist = np.linalg.norm((c - [0.0, 0.0, 0.0])[[0, 2]]) + 1.8
    dy = rays[..., 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        t_floor = np.where(dy < 0, -c[1] / dy, np.inf)
        t_wall = np.where(rays @ fwd > 0, wall_dist / (rays @ fwd), np.inf)
    floor = t_floor < t_wall
    hit_y = c[1] + t_wall * dy
    wall_shade = np.clip(0.86 - 0.06 * hit_y, 0.6, 0.9)[..., None]
    img = wall_shade * np.array([0.93, 0.9, 0.84])
    fx = c[0] + t_floor * rays[..., 0]
    fz = c[2] + t_floor * rays[..., 2]
    dist = np.hypot(fx, fz)
    floor_col = np.array([0.55, 0.47, 0.38]) * np.clip(0.95 - 0.05 * dist, 0.7, 0.95)[..., None]
    # Soft contact shadow under the feet (or under a body lying on the floor).
    sx, sz, lx, lz = shadow
    shade = 1.0 - 0.35 * np.exp(-(((fx - sx) / lx) ** 2 + ((fz - sz) / lz) ** 2))
    img = np.where(floor[..., None], floor_col * shade[..., None], img)
    if style == "noise":
        rng = np.random.default_rng(seed + 7919)
        img = img * (1.0 + rng.normal(0.0, 0.04, (h, w, 1)))
    return np.clip(img, 0.0, 1.0)


def rasterise(
    spheres: Spheres, camera: Camera, bg: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw spheres over bg. Returns RGB uint8 (H, W, 3), person mask and part-id image."""
    h, w = camera.height, camera.width
    pc = camera.to_camera(spheres.centres)
    f = camera.focal_px
    u = 0.5 * w + f * pc[:, 0] / pc[:, 2]
    v = 0.5 * h - f * pc[:, 1] / pc[:, 2]
    rad = f * spheres.radii / pc[:, 2]
    zbuf = np.full((h, w), np.inf)
    ids = np.full((h, w), -1, dtype=np.int32)
    xs = np.arange(w) + 0.5
    ys = np.arange(h) + 0.5
    x0 = np.clip(np.floor(u - rad).astype(int), 0, w)
    x1 = np.clip(np.ceil(u + rad).astype(int) + 1, 0, w)
    y0 = np.clip(np.floor(v - rad).astype(int), 0, h)
    y1 = np.clip(np.ceil(v + rad).astype(int) + 1, 0, h)
    for i in np.argsort(pc[:, 2]):
        if x0[i] >= x1[i] or y0[i] >= y1[i] or pc[i, 2] <= 0:
            continue
        dx = (xs[x0[i] : x1[i]] - u[i]) / rad[i]
        dy = (ys[y0[i] : y1[i]] - v[i]) / rad[i]
        q = 1.0 - (dx[None, :] ** 2 + dy[:, None] ** 2)
        depth = pc[i, 2] - spheres.radii[i] * np.sqrt(np.maximum(q, 0.0))
        win = (q > 0) & (depth < zbuf[y0[i] : y1[i], x0[i] : x1[i]])
        zbuf[y0[i] : y1[i], x0[i] : x1[i]][win] = depth[win]
        ids[y0[i] : y1[i], x0[i] : x1[i]][win] = i

    mask = ids >= 0
    py, px = np.nonzero(mask)
    s = ids[py, px]
    nx = (px + 0.5 - u[s]) / rad[s]
    ny = -(py + 0.5 - v[s]) / rad[s]
    nz = -np.sqrt(np.clip(1.0 - nx**2 - ny**2, 0.0, 1.0))
    normal = np.stack([nx, ny, nz], axis=1)
    light = light_direction(camera)
    lambert = np.clip(normal @ light, 0.0, 1.0)
    half = light + np.array([0.0, 0.0, -1.0])
    half /= np.linalg.norm(half)
    spec = np.clip(normal @ half, 0.0, 1.0) ** 24
    colour = spheres.albedo[s] * (0.38 + 0.72 * lambert)[:, None] + 0.08 * spec[:, None]
    img = bg.copy()
    img[py, px] = colour
    part = np.full((h, w), -1, dtype=np.int8)
    part[py, px] = spheres.part[s]
    return (np.clip(img, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8), mask, part
