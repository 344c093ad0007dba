"""Writes calibration.npz for examples/mobilenet-fleet: synthetic 128x128 RGB images for int8
calibration of ../shared/real-models/st_mobilenet_v2_0.5_128_float (no image data set is shared
with the repository).

Each image is a smooth scene (a sum of random low-frequency colour gradients and a few soft-edged
discs, like objects before a background) plus mild sensor noise, in the model's input range
[-1, 1] (pixel / 127.5 - 1, as MobileNetV2 is fed). Deterministic: numpy's default generator with
seed 18. Usage: /usr/bin/python3 make_calibration.py [OUT.npz] [--count N] (default 16 images
into calibration.npz beside this script; the file is written, not committed)."""
import argparse
import pathlib

import numpy as np

SIZE = 128


def image(rng):
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / SIZE
    picture = np.zeros((3, SIZE, SIZE), np.float32)
    for channel in range(3):
        for _ in range(3):  # low-frequency colour gradients
            fx, fy, phase = rng.uniform(0.2, 2.5), rng.uniform(0.2, 2.5), rng.uniform(0, 2 * np.pi)
            picture[channel] += rng.uniform(0.2, 0.6) * np.sin(2 * np.pi * (fx * x + fy * y) + phase)
    for _ in range(rng.integers(1, 5)):  # soft-edged discs: objects
        cx, cy, radius = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.05, 0.3)
        mask = 1 / (1 + np.exp((np.hypot(x - cx, y - cy) - radius) * 40))
        picture += mask * rng.uniform(-1, 1, (3, 1, 1)).astype(np.float32)
    picture += rng.normal(0, 0.03, picture.shape).astype(np.float32)  # sensor noise
    return np.clip(picture, -1, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default=pathlib.Path(__file__).with_name("calibration.npz"))
    parser.add_argument("--count", type=int, default=16)
    args = parser.parse_args()
    rng = np.random.default_rng(18)
    images = np.stack([image(rng) for _ in range(args.count)]).astype(np.float32)
    np.savez(args.out, **{"input_1:0": images})
    print(f"{args.out}: {args.count} images {list(images.shape[1:])}, "
          f"range [{images.min():.2f}, {images.max():.2f}]")


if __name__ == "__main__":
    main()
