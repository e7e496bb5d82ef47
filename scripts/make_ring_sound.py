"""Make the ring sound: a soft two-tone chime, repeated, loud enough for poor hearing, never shrill."""

import math
import struct
import sys
import wave
from pathlib import Path

RATE = 22050
OUT = Path(__file__).resolve().parent.parent / "assets" / "sounds" / "ring.wav"


def tone(freq: float, seconds: float, volume: float) -> list[float]:
    """A bell-like tone: a fundamental and a soft octave, with a quick attack and a long decay."""
    samples = []
    for i in range(int(RATE * seconds)):
        t = i / RATE
        envelope = min(1.0, t / 0.01) * math.exp(-3.0 * t)
        value = math.sin(2 * math.pi * freq * t) + 0.3 * math.sin(4 * math.pi * freq * t)
        samples.append(volume * envelope * value / 1.3)
    return samples


def main() -> int:
    # 660 Hz then 523 Hz ("ding-dong"): low enough for ears that lost the high range, clear over a TV.
    pattern = tone(660, 0.6, 0.85) + tone(523, 1.0, 0.85) + [0.0] * int(RATE * 0.9)
    with wave.open(str(OUT), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(b"".join(struct.pack("<h", int(max(-1, min(1, s)) * 32767)) for s in pattern))
    print(OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
